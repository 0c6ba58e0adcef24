// Feature pyramid: the lateral and output convs, the top-down pass and the P6/P7 levels.
#include "retinanet/fpn.h"

#include "autograd/ops.h"
#include "layers/init.h"
#include "retinanet/padded_conv.h"

namespace maskdet {

namespace {

// torchvision's FPN init: kaiming_uniform_ with a = 1 (gain 1: U(-sqrt(3 / fan_in), +)), bias 0.
std::shared_ptr<nn::Conv2d> make_fpn_conv(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                                          int64_t stride) {
  auto conv = padded_conv(in_channels, out_channels, kernel_size, stride, /*bias=*/true);
  nn::init::kaiming_uniform_(conv->weight(), 1.0);
  nn::init::zeros_(conv->bias());
  return conv;
}

// torchvision wraps each lateral and output conv in a Conv2dNormActivation (a Sequential) with
// neither norm nor activation, hence the ".0" in their names.
std::shared_ptr<nn::Sequential> wrapped(std::shared_ptr<nn::Conv2d> conv) {
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::UnaryModule>>{std::move(conv)});
}

}  // namespace

FeaturePyramid::FeaturePyramid(const FpnConfig& config) : Module("FeaturePyramidNetwork"), config_(config) {
  MASKDET_CHECK(config.in_channels.size() == 3, "FeaturePyramid: expected the widths of C3, C4, C5, got ",
                config.in_channels.size(), " widths");
  MASKDET_CHECK(config.out_channels > 0, "FeaturePyramid: out_channels must be positive, got ", config.out_channels);
  // Containers that only name their children, as torch.nn.ModuleList does.
  auto inner = register_module("inner_blocks", std::make_shared<nn::Module>("ModuleList"));
  auto layer = register_module("layer_blocks", std::make_shared<nn::Module>("ModuleList"));
  for (size_t i = 0; i < config.in_channels.size(); ++i) {
    inner_blocks_.push_back(inner->register_module(
        std::to_string(i), wrapped(make_fpn_conv(config.in_channels[i], config.out_channels, 1, 1))));
    layer_blocks_.push_back(layer->register_module(
        std::to_string(i), wrapped(make_fpn_conv(config.out_channels, config.out_channels, 3, 1))));
  }
  auto extra = register_module("extra_blocks", std::make_shared<nn::Module>("LastLevelP6P7"));
  const int64_t p6_in = config.p6_source == P6Source::C5 ? config.in_channels.back() : config.out_channels;
  p6_ = extra->register_module("p6", make_fpn_conv(p6_in, config.out_channels, 3, 2));
  p7_ = extra->register_module("p7", make_fpn_conv(config.out_channels, config.out_channels, 3, 2));
}

std::vector<Tensor> FeaturePyramid::forward(const std::vector<Tensor>& c) {
  MASKDET_CHECK(c.size() == inner_blocks_.size(), "FeaturePyramid: expected ", inner_blocks_.size(),
                " feature maps (C3, C4, C5), got ", c.size());
  const size_t levels = c.size();
  std::vector<Tensor> p(levels);
  Tensor merged = inner_blocks_[levels - 1]->forward(c[levels - 1]);
  p[levels - 1] = layer_blocks_[levels - 1]->forward(merged);
  for (size_t l = levels - 1; l-- > 0;) {
    const Tensor lateral = inner_blocks_[l]->forward(c[l]);
    // To the lateral's exact size, so odd sizes (rounded up by the strided convs) still line up.
    merged = add(lateral, upsample_nearest2d(merged, lateral.size(2), lateral.size(3)));
    p[l] = layer_blocks_[l]->forward(merged);
  }
  const Tensor p6 = p6_->forward(config_.p6_source == P6Source::C5 ? c.back() : p.back());
  p.push_back(p6);
  p.push_back(p7_->forward(relu(p6)));
  return p;
}

}  // namespace maskdet
