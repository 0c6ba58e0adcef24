// ResNet backbone (He et al. 2016, "Deep Residual Learning for Image Recognition") in
// torchvision's layout, so torchvision's ImageNet and detection checkpoints load key for key:
//   conv1, bn1, (relu, maxpool), layer1..layer4 = Sequential of blocks "0", "1", ..., each
//   block conv1/bn1/conv2/bn2 (+ conv3/bn3 in a Bottleneck) and, where the shape changes,
//   downsample = Sequential("0": 1x1 strided conv, "1": norm).
// The bottleneck puts the stride on its 3x3 conv (torchvision's "ResNet v1.5"), not on the
// first 1x1 as the paper does. avgpool and fc are left out: the detector reads C3, C4, C5
// (the outputs of layer2..layer4, strides 8, 16, 32), as the FPN paper's RetinaNet does
// (Lin et al. 2017, "Focal Loss for Dense Object Detection", sec. 4).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layers/conv2d.h"
#include "layers/module.h"
#include "layers/sequential.h"
#include "retinanet/backbone.h"

namespace maskdet {

// torchvision's two residual blocks: BasicBlock (two 3x3 convs; ResNet-18/34) and Bottleneck
// (1x1 reduce, 3x3 with the stride, 1x1 expand by 4; ResNet-50/101).
enum class BlockKind { Basic, Bottleneck };

// A residual block: layers conv1/bn1, conv2/bn2(, conv3/bn3) with a ReLU after each but the last
// norm, plus the shortcut: the identity, or where the block changes the resolution or the width a
// projection "downsample" = Sequential(1x1 strided conv, norm); then the sum and a ReLU.
class ResidualBlock : public nn::UnaryModule {
 public:
  static int64_t expansion(BlockKind kind) { return kind == BlockKind::Bottleneck ? 4 : 1; }
  ResidualBlock(BlockKind kind, int64_t in_channels, int64_t planes, int64_t stride, const BackboneConfig& config);
  // x: (N, in_channels, H, W) -> (N, planes * expansion, ceil(H / stride), ceil(W / stride))
  Tensor forward(const Tensor& x) override;

 private:
  std::vector<std::shared_ptr<nn::Conv2d>> convs_;
  std::vector<std::shared_ptr<nn::UnaryModule>> norms_;
  std::shared_ptr<nn::Sequential> downsample_;  // null for the identity
};

class ResNet : public Backbone {
 public:
  // Initialised as torchvision: convs kaiming_normal_(fan_out, relu), norms weight 1, bias 0.
  explicit ResNet(const BackboneConfig& config);

  std::vector<Tensor> forward(const Tensor& x) override;
  // Channels of C3, C4, C5: 128, 256, 512 for ResNet-18/34; 512, 1024, 2048 for 50/101.
  std::vector<int64_t> feature_channels() const override;
  // conv1 + bn1, layer1, ..., layer4 (torchvision's trainable_layers 5 ... 1).
  std::vector<std::vector<std::string>> stages() const override;
  const BackboneConfig& config() const { return config_; }

 private:
  BackboneConfig config_;
  std::shared_ptr<nn::Conv2d> conv1_;
  std::shared_ptr<nn::UnaryModule> bn1_, maxpool_;
  std::vector<std::shared_ptr<nn::Sequential>> layers_;  // layer1..layer4
};

}  // namespace maskdet
