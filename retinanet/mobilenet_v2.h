// MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks") in
// torchvision's layout, so torchvision's ImageNet checkpoint (mobilenet_v2-b0353104.pth, converted
// by scripts/fetch-weights.sh) loads with every key matched:
//   features.0            Conv2dNormActivation: 3x3 stride-2 conv 3 -> 32, norm, ReLU6
//   features.1 .. 17      InvertedResidual blocks; each block's "conv" Sequential holds
//                           0: 1x1 expansion (Conv2dNormActivation; absent when t = 1),
//                           then the 3x3 depthwise Conv2dNormActivation, the 1x1 linear
//                           projection conv and its norm (no activation: the linear bottleneck)
//   features.18           Conv2dNormActivation: 1x1 conv 320 -> 1280, norm, ReLU6
//   classifier.0, .1      Dropout(0.2), Linear(1280, 1000)
// with the paper's settings (expansion t, channels c, repeats n, first stride s):
//   (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1).
// A block adds its input back (the residual) when it keeps stride 1 and the width.
//
// As a detection backbone (MobileNetV2Features) the features stand alone, their blocks named
// "0" .. "18" as in torchvision's BackboneWithFPN(mobilenet_v2().features): RetinaNet taps
// C3 = features.6 (32 channels, stride 8), C4 = features.13 (96, stride 16) and
// C5 = features.18 (1280, stride 32).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/module.h"
#include "layers/sequential.h"
#include "retinanet/backbone.h"

namespace maskdet {

// Conv2d (no bias), norm, and ReLU6 unless `activation` is false; children "0", "1", "2" as
// torchvision.ops.Conv2dNormActivation. A frozen norm is folded into the convolution (conv_norm.h).
class ConvNormActivation : public nn::Sequential {
 public:
  ConvNormActivation(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride, int64_t groups,
                     const BackboneConfig& config);
  // x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride))
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<nn::Conv2d> conv_;
  std::shared_ptr<nn::UnaryModule> norm_;
};

class InvertedResidual : public nn::UnaryModule {
 public:
  InvertedResidual(int64_t in_channels, int64_t out_channels, int64_t stride, int64_t expand_ratio,
                   const BackboneConfig& config);
  // x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride))
  Tensor forward(const Tensor& x) override;
  int64_t stride() const { return stride_; }

 private:
  int64_t stride_;
  bool residual_;
  std::vector<std::shared_ptr<ConvNormActivation>> expand_and_depthwise_;
  std::shared_ptr<nn::Conv2d> project_;
  std::shared_ptr<nn::UnaryModule> project_norm_;
};

class MobileNetV2Features : public Backbone {
 public:
  // Initialised as torchvision: convs kaiming_normal_(fan_out), norms weight 1, bias 0.
  explicit MobileNetV2Features(const BackboneConfig& config);

  std::vector<Tensor> forward(const Tensor& x) override;  // C3, C4, C5: 32, 96, 1280 channels
  // The output of features.18: (N, 1280, H/32, W/32), what the classifier pools.
  Tensor forward_last(const Tensor& x);
  std::vector<int64_t> feature_channels() const override { return {32, 96, 1280}; }
  // torchvision's _mobilenet_extractor stages: features.0-1, then one stage starting at each
  // stride-2 block (2, 4, 7, 14) and the last conv (18).
  std::vector<std::vector<std::string>> stages() const override;
  size_t size() const { return blocks_.size(); }

 private:
  std::vector<std::shared_ptr<nn::UnaryModule>> blocks_;
  std::vector<size_t> stage_starts_;
};

// The ImageNet classifier: features, global average pooling, dropout and a 1000-way linear layer.
class MobileNetV2 : public nn::Module {
 public:
  explicit MobileNetV2(const BackboneConfig& config, int64_t num_classes = 1000, double dropout = 0.2);
  // x: (N, 3, H, W) normalised with the ImageNet mean and std -> logits (N, num_classes)
  Tensor forward(const Tensor& x);
  const std::shared_ptr<MobileNetV2Features>& features() const { return features_; }

 private:
  std::shared_ptr<MobileNetV2Features> features_;
  std::shared_ptr<nn::Sequential> classifier_;
};

}  // namespace maskdet
