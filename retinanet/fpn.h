// Feature pyramid P3-P7 for RetinaNet (Lin et al. 2017, "Feature Pyramid Networks for Object
// Detection", with the P6/P7 extension of Lin et al. 2017, "Focal Loss for Dense Object
// Detection", sec. 4). Top-down: each level's 1x1 lateral of C_l plus the nearest-upsampled
// merged map of the level above, then a 3x3 conv against upsampling aliasing. P6 is a stride-2
// 3x3 conv and P7 another one after a ReLU.
//
// Parameter names follow torchvision's FeaturePyramidNetwork + LastLevelP6P7, so its
// checkpoints load directly: inner_blocks.<i>.0 (1x1 laterals), layer_blocks.<i>.0 (3x3
// outputs), extra_blocks.p6, extra_blocks.p7.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "layers/conv2d.h"
#include "layers/module.h"
#include "layers/sequential.h"

namespace maskdet {

// The paper computes P6 from C5; torchvision's retinanet_resnet50_fpn computes it from P5
// (its LastLevelP6P7 uses P5 whenever C5's width equals the FPN's).
enum class P6Source { C5, P5 };

struct FpnConfig {
  std::vector<int64_t> in_channels;  // of C3, C4, C5 (ResNet::feature_channels())
  int64_t out_channels = 256;
  P6Source p6_source = P6Source::P5;
};

class FeaturePyramid : public nn::Module {
 public:
  // Initialised as torchvision: every conv kaiming_uniform_(a = 1), biases 0.
  explicit FeaturePyramid(const FpnConfig& config);

  // c: {C3, C4, C5}, C_l (N, in_channels[l], H_l, W_l) -> {P3, ..., P7}, each (N, out_channels, h, w)
  // with P3..P5 at C3..C5's sizes and P6, P7 halving (rounded up) each time.
  std::vector<Tensor> forward(const std::vector<Tensor>& c);
  const FpnConfig& config() const { return config_; }

 private:
  FpnConfig config_;
  std::vector<std::shared_ptr<nn::Sequential>> inner_blocks_, layer_blocks_;
  std::shared_ptr<nn::Conv2d> p6_, p7_;
};

}  // namespace maskdet
