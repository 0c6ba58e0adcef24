// The backbone interface RetinaNet builds on: a network that turns images into the three feature
// maps C3, C4, C5 at strides 8, 16 and 32 that the feature pyramid reads (Lin et al. 2017,
// "Feature Pyramid Networks for Object Detection"), plus what fine-tuning needs to know of it:
// its stages, from the input to the output, so the first ones can be frozen as torchvision's
// trainable_backbone_layers does.
// Implementations: ResNet-18..101 (resnet.h) and MobileNetV2 (mobilenet_v2.h).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layers/module.h"

namespace maskdet {

// BatchNorm learns and tracks statistics; FrozenBatchNorm keeps a checkpoint's statistics and
// affine map fixed, which detection uses because its batches are too small for good batch
// statistics (torchvision picks it whenever the backbone starts from pretrained weights).
enum class NormLayer { BatchNorm, FrozenBatchNorm };

enum class BackboneArch { ResNet, MobileNetV2 };

struct BackboneConfig {
  int depth = 50;  // ResNet only: 18, 34 (BasicBlock) or 50, 101 (Bottleneck)
  NormLayer norm = NormLayer::FrozenBatchNorm;
  // torchvision's COCO RetinaNet weights were trained with FrozenBatchNorm eps = 0
  // (torchvision sets it with overwrite_eps); ImageNet checkpoints use the default 1e-5.
  double norm_eps = 1e-5;
  BackboneArch arch = BackboneArch::ResNet;
};

class Backbone : public nn::Module {
 public:
  using Module::Module;
  // x: (N, 3, H, W) -> {C3 (N, c3, H/8, W/8), C4 (N, c4, H/16, W/16), C5 (N, c5, H/32, W/32)}
  // (sizes rounded up at each stride-2 step).
  virtual std::vector<Tensor> forward(const Tensor& x) = 0;
  // Channels of C3, C4, C5.
  virtual std::vector<int64_t> feature_channels() const = 0;
  // The stages torchvision counts for trainable_backbone_layers, from the input side: each one
  // the dotted names (relative to the backbone) of the modules it is made of.
  virtual std::vector<std::vector<std::string>> stages() const = 0;
};

std::shared_ptr<Backbone> make_backbone(const BackboneConfig& config);

// The config's norm layer for `channels`, starting as the identity map (weight 1, bias 0, mean 0,
// variance 1).
std::shared_ptr<nn::UnaryModule> make_norm_layer(const BackboneConfig& config, int64_t channels);

// Freezes (requires_grad false) every backbone parameter outside its last `trainable_stages`
// stages, as torchvision's resnet_fpn_extractor / _mobilenet_extractor: 0 freezes all of it,
// stages().size() none. Returns the number of parameters frozen.
int64_t freeze_backbone_stages(Backbone& backbone, int64_t trainable_stages);

}  // namespace maskdet
