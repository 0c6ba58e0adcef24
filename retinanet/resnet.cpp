// ResNet: the blocks, the stages built from them and torchvision's initialisation, applied as
// each layer is made (a module cannot walk its own tree while it is being constructed).
#include "retinanet/resnet.h"

#include "autograd/ops.h"
#include "layers/activation.h"
#include "layers/conv_norm.h"
#include "layers/init.h"
#include "layers/pooling.h"
#include "retinanet/padded_conv.h"

namespace maskdet {

namespace {

// Bias-free (a norm follows), initialised for the ReLU after it.
std::shared_ptr<nn::Conv2d> make_conv(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                                      int64_t stride) {
  auto conv = padded_conv(in_channels, out_channels, kernel_size, stride, /*bias=*/false);
  nn::init::kaiming_normal_(conv->weight(), 0.0, nn::init::FanMode::FanOut, nn::init::Nonlinearity::ReLU);
  return conv;
}

struct Architecture {
  BlockKind block;
  std::vector<int64_t> blocks_per_stage;
};

Architecture architecture(int depth) {
  switch (depth) {
    case 18: return {BlockKind::Basic, {2, 2, 2, 2}};
    case 34: return {BlockKind::Basic, {3, 4, 6, 3}};
    case 50: return {BlockKind::Bottleneck, {3, 4, 6, 3}};
    case 101: return {BlockKind::Bottleneck, {3, 4, 23, 3}};
  }
  MASKDET_FAIL("ResNet: depth must be 18, 34, 50 or 101, got ", depth);
}

struct ConvShape {
  int64_t in_channels, out_channels, kernel_size, stride;
};

// A block's conv layers in order. torchvision's Bottleneck puts the stride on the 3x3 conv.
std::vector<ConvShape> block_convs(BlockKind kind, int64_t in_channels, int64_t planes, int64_t stride) {
  if (kind == BlockKind::Basic) return {{in_channels, planes, 3, stride}, {planes, planes, 3, 1}};
  return {{in_channels, planes, 1, 1}, {planes, planes, 3, stride}, {planes, planes * ResidualBlock::expansion(kind), 1, 1}};
}

}  // namespace

ResidualBlock::ResidualBlock(BlockKind kind, int64_t in_channels, int64_t planes, int64_t stride,
                             const BackboneConfig& config)
    : UnaryModule(kind == BlockKind::Basic ? "BasicBlock" : "Bottleneck") {
  for (const ConvShape& c : block_convs(kind, in_channels, planes, stride)) {
    const std::string index = std::to_string(convs_.size() + 1);
    convs_.push_back(register_module("conv" + index, make_conv(c.in_channels, c.out_channels, c.kernel_size, c.stride)));
    norms_.push_back(register_module("bn" + index, make_norm_layer(config, c.out_channels)));
  }
  // Registered last, so "downsample" follows the block's own layers in the state dict, as in torchvision's.
  const int64_t out_channels = planes * expansion(kind);
  if (stride == 1 && in_channels == out_channels) return;
  downsample_ = register_module(
      "downsample", std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::UnaryModule>>{
                        make_conv(in_channels, out_channels, 1, stride), make_norm_layer(config, out_channels)}));
}

Tensor ResidualBlock::forward(const Tensor& x) {
  Tensor out = x;
  for (size_t i = 0; i < convs_.size(); ++i) {
    out = nn::conv_then_norm(*convs_[i], *norms_[i], out);
    if (i + 1 < convs_.size()) out = relu(out);
  }
  return relu(add(out, downsample_ ? downsample_->forward(x) : x));
}

ResNet::ResNet(const BackboneConfig& config) : Backbone("ResNet"), config_(config) {
  MASKDET_CHECK(config.arch == BackboneArch::ResNet, "ResNet: the config describes another backbone");
  const Architecture arch = architecture(config.depth);
  conv1_ = register_module("conv1", make_conv(3, 64, 7, 2));
  bn1_ = register_module("bn1", make_norm_layer(config, 64));
  register_module("relu", std::make_shared<nn::ReLU>());
  maxpool_ = register_module("maxpool", std::make_shared<nn::MaxPool2d>(
                                            nn::MaxPool2dOptions{.kernel_size = 3, .stride = 2, .padding = 1}));
  int64_t channels = 64;
  for (size_t s = 0; s < 4; ++s) {
    const int64_t planes = int64_t{64} << s;
    auto stage = std::make_shared<nn::Sequential>();
    for (int64_t b = 0; b < arch.blocks_per_stage[s]; ++b) {
      // Each stage after the first halves the resolution in its first block.
      const int64_t stride = s > 0 && b == 0 ? 2 : 1;
      stage->push_back(std::make_shared<ResidualBlock>(arch.block, channels, planes, stride, config));
      channels = planes * ResidualBlock::expansion(arch.block);
    }
    layers_.push_back(register_module("layer" + std::to_string(s + 1), stage));
  }
}

std::vector<Tensor> ResNet::forward(const Tensor& x) {
  MASKDET_CHECK(x.defined() && x.dim() == 4 && x.size(1) == 3, "ResNet: expected images (N, 3, H, W), got shape ",
                x.defined() ? shape_str(x.shape()) : "undefined");
  Tensor c = maxpool_->forward(relu(nn::conv_then_norm(*conv1_, *bn1_, x)));
  std::vector<Tensor> features;
  for (size_t s = 0; s < layers_.size(); ++s) {
    c = layers_[s]->forward(c);
    if (s >= 1) features.push_back(c);  // layer2..layer4 are C3..C5
  }
  return features;
}

std::vector<int64_t> ResNet::feature_channels() const {
  const int64_t expansion = ResidualBlock::expansion(architecture(config_.depth).block);
  return {128 * expansion, 256 * expansion, 512 * expansion};
}

std::vector<std::vector<std::string>> ResNet::stages() const {
  return {{"conv1", "bn1"}, {"layer1"}, {"layer2"}, {"layer3"}, {"layer4"}};
}

}  // namespace maskdet
