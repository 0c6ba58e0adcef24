// MobileNetV2: the blocks, the settings table that stacks them, and torchvision's
// initialisation, applied as each layer is made.
#include "retinanet/mobilenet_v2.h"

#include "autograd/ops.h"
#include "layers/activation.h"
#include "layers/conv_norm.h"
#include "layers/dropout.h"
#include "layers/init.h"

namespace maskdet {

namespace {

std::shared_ptr<nn::Conv2d> make_conv(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride,
                                      int64_t groups) {
  auto conv = std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in_channels = in_channels,
                                                             .out_channels = out_channels,
                                                             .kernel_size = kernel_size,
                                                             .stride = stride,
                                                             .padding = (kernel_size - 1) / 2,
                                                             .groups = groups,
                                                             .bias = false});
  nn::init::kaiming_normal_(conv->weight(), 0.0, nn::init::FanMode::FanOut);
  return conv;
}

struct StageSetting {
  int64_t expand_ratio, channels, repeats, stride;
};
constexpr StageSetting kSettings[] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                      {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};
constexpr int64_t kStemChannels = 32, kLastChannels = 1280;
// The blocks whose outputs are C3, C4, C5.
constexpr size_t kTaps[] = {6, 13, 18};

}  // namespace

ConvNormActivation::ConvNormActivation(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride,
                                       int64_t groups, const BackboneConfig& config)
    : Sequential("Conv2dNormActivation") {
  conv_ = push_back(make_conv(in_channels, out_channels, kernel_size, stride, groups));
  norm_ = push_back(make_norm_layer(config, out_channels));
  push_back(std::make_shared<nn::ReLU6>());
}

Tensor ConvNormActivation::forward(const Tensor& x) { return clamp(nn::conv_then_norm(*conv_, *norm_, x), 0.0, 6.0); }

InvertedResidual::InvertedResidual(int64_t in_channels, int64_t out_channels, int64_t stride, int64_t expand_ratio,
                                   const BackboneConfig& config)
    : UnaryModule("InvertedResidual"), stride_(stride), residual_(stride == 1 && in_channels == out_channels) {
  MASKDET_CHECK(stride == 1 || stride == 2, "InvertedResidual: stride must be 1 or 2, got ", stride);
  const int64_t hidden = in_channels * expand_ratio;
  auto conv = register_module("conv", std::make_shared<nn::Sequential>());
  if (expand_ratio != 1)
    expand_and_depthwise_.push_back(
        conv->push_back(std::make_shared<ConvNormActivation>(in_channels, hidden, 1, 1, 1, config)));
  expand_and_depthwise_.push_back(
      conv->push_back(std::make_shared<ConvNormActivation>(hidden, hidden, 3, stride, hidden, config)));
  project_ = conv->push_back(make_conv(hidden, out_channels, 1, 1, 1));
  project_norm_ = conv->push_back(make_norm_layer(config, out_channels));
}

Tensor InvertedResidual::forward(const Tensor& x) {
  Tensor out = x;
  for (const auto& layer : expand_and_depthwise_) out = layer->forward(out);
  out = nn::conv_then_norm(*project_, *project_norm_, out);
  return residual_ ? add(x, out) : out;
}

MobileNetV2Features::MobileNetV2Features(const BackboneConfig& config) : Backbone("MobileNetV2Features") {
  MASKDET_CHECK(config.arch == BackboneArch::MobileNetV2, "MobileNetV2Features: the config describes another backbone");
  auto add = [&](std::shared_ptr<nn::UnaryModule> block) {
    blocks_.push_back(register_module(std::to_string(blocks_.size()), std::move(block)));
  };
  add(std::make_shared<ConvNormActivation>(3, kStemChannels, 3, 2, 1, config));
  stage_starts_.push_back(0);
  int64_t channels = kStemChannels;
  for (const StageSetting& s : kSettings)
    for (int64_t r = 0; r < s.repeats; ++r) {
      const int64_t stride = r == 0 ? s.stride : 1;
      if (stride > 1) stage_starts_.push_back(blocks_.size());
      add(std::make_shared<InvertedResidual>(channels, s.channels, stride, s.expand_ratio, config));
      channels = s.channels;
    }
  stage_starts_.push_back(blocks_.size());
  add(std::make_shared<ConvNormActivation>(channels, kLastChannels, 1, 1, 1, config));
}

std::vector<Tensor> MobileNetV2Features::forward(const Tensor& x) {
  MASKDET_CHECK(x.defined() && x.dim() == 4 && x.size(1) == 3, "MobileNetV2: expected images (N, 3, H, W), got shape ",
                x.defined() ? shape_str(x.shape()) : "undefined");
  std::vector<Tensor> features;
  Tensor c = x;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    c = blocks_[i]->forward(c);
    for (const size_t tap : kTaps)
      if (i == tap) features.push_back(c);
  }
  return features;
}

Tensor MobileNetV2Features::forward_last(const Tensor& x) { return forward(x).back(); }

std::vector<std::vector<std::string>> MobileNetV2Features::stages() const {
  std::vector<std::vector<std::string>> stages;
  for (size_t s = 0; s < stage_starts_.size(); ++s) {
    const size_t end = s + 1 < stage_starts_.size() ? stage_starts_[s + 1] : blocks_.size();
    std::vector<std::string> names;
    for (size_t b = stage_starts_[s]; b < end; ++b) names.push_back(std::to_string(b));
    stages.push_back(names);
  }
  return stages;
}

MobileNetV2::MobileNetV2(const BackboneConfig& config, int64_t num_classes, double dropout) : Module("MobileNetV2") {
  features_ = register_module("features", std::make_shared<MobileNetV2Features>(config));
  classifier_ = register_module("classifier", std::make_shared<nn::Sequential>());
  classifier_->push_back(std::make_shared<nn::Dropout>(dropout));
  auto linear = classifier_->push_back(std::make_shared<nn::Linear>(kLastChannels, num_classes));
  nn::init::normal_(linear->weight(), 0.01);
  nn::init::zeros_(linear->bias());
}

Tensor MobileNetV2::forward(const Tensor& x) {
  const Tensor pooled = mean(features_->forward_last(x), {2, 3});
  return classifier_->forward(pooled);
}

}  // namespace maskdet
