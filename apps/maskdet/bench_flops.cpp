// Counting a RetinaNet forward's convolution FLOPs from its layers' shapes (bench_flops.h).
#include "apps/maskdet/bench_flops.h"

#include <string>

#include "layers/conv2d.h"
#include "layers/pooling.h"
#include "retinanet/resnet.h"

namespace maskdet::app {

namespace {

struct Extent {
  int64_t height, width;
};

// PyTorch's output-size formula for a window of `kernel` pixels (no dilation in these models).
int64_t window_out(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
  return (in + 2 * padding - kernel) / stride + 1;
}

Extent conv_out(Extent in, const nn::Conv2dOptions& o) {
  const int64_t reach = o.dilation * (o.kernel_size - 1) + 1;
  return {window_out(in.height, reach, o.stride, o.padding), window_out(in.width, reach, o.stride, o.padding)};
}

double conv_flops(const nn::Conv2dOptions& o, Extent out) {
  const double per_output = 2.0 * static_cast<double>(o.in_channels / o.groups * o.kernel_size * o.kernel_size);
  return per_output * static_cast<double>(o.out_channels) * static_cast<double>(out.height * out.width);
}

// Pyramid level l has stride 2^l: every halving on the way (the stem's conv and max pool, the
// stride-2 convs of ResNet, FPN's P6 and P7) rounds up, and ceil(ceil(x / a) / b) = ceil(x / ab).
Extent level_extent(int64_t height, int64_t width, int level) {
  const int64_t stride = int64_t{1} << level;
  return {(height + stride - 1) / stride, (width + stride - 1) / stride};
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

double forward_flops(RetinaNet& model, int64_t height, int64_t width) {
  double flops = 0;

  // The backbone as a chain, in registration order (ResNet: conv1, maxpool, then each block's convs;
  // MobileNetV2: every block's expansion, depthwise and projection convs),
  // which is its order of execution; a block's shortcut reads the block's input instead.
  Extent current{height, width}, block_input = current;
  for (const auto& [name, module] : model.body()->named_modules()) {
    if (dynamic_cast<const ResidualBlock*>(module.get())) {
      block_input = current;
    } else if (const auto* pool = dynamic_cast<const nn::MaxPool2d*>(module.get())) {
      const auto& o = pool->options();
      const int64_t stride = o.stride > 0 ? o.stride : o.kernel_size;
      current = {window_out(current.height, o.kernel_size, stride, o.padding),
                 window_out(current.width, o.kernel_size, stride, o.padding)};
    } else if (const auto* conv = dynamic_cast<const nn::Conv2d*>(module.get())) {
      const bool shortcut = name.find("downsample") != std::string::npos;
      const Extent out = conv_out(shortcut ? block_input : current, conv->options());
      flops += conv_flops(conv->options(), out);
      if (!shortcut) current = out;
    }
  }

  // The pyramid: lateral and output convs at P3-P5 (inner_blocks.<i>, layer_blocks.<i>), P6 and
  // P7 at their own levels.
  for (const auto& [name, module] : model.fpn()->named_modules()) {
    const auto* conv = dynamic_cast<const nn::Conv2d*>(module.get());
    if (!conv) continue;
    int level = 0;
    if (starts_with(name, "inner_blocks.") || starts_with(name, "layer_blocks."))
      level = 3 + std::stoi(name.substr(name.find('.') + 1));
    else if (name == "extra_blocks.p6") level = 6;
    else if (name == "extra_blocks.p7") level = 7;
    MASKDET_CHECK(level != 0, "forward_flops: unexpected FPN convolution '", name, "'");
    flops += conv_flops(conv->options(), level_extent(height, width, level));
  }

  // The head: every conv of both subnets runs at every level, keeping its size.
  for (const auto& [name, module] : model.head()->named_modules())
    if (const auto* conv = dynamic_cast<const nn::Conv2d*>(module.get()))
      for (int level = 3; level <= 7; ++level) flops += conv_flops(conv->options(), level_extent(height, width, level));
  return flops;
}

}  // namespace maskdet::app
