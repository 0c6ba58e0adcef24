// Conv2d: a 2-D convolution layer with torch.nn.Conv2d's parameters ("weight" (O, C/groups, K, K),
// "bias" (O)), hyper-parameters and default initialisation. Square kernels, strides, paddings
// and dilations: all that the ResNet / FPN / RetinaNet family uses.
#pragma once
#include <cstdint>

#include "layers/module.h"

namespace maskdet {
struct Conv2dOptions;  // the op's geometry (autograd/ops.h)
}  // namespace maskdet

namespace maskdet::nn {

struct Conv2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel_size = 1;
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public UnaryModule {
 public:
  // e.g. Conv2d({.in_channels = 64, .out_channels = 64, .kernel_size = 3, .padding = 1, .bias = false})
  explicit Conv2d(const Conv2dOptions& options);
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : Conv2d(Conv2dOptions{.in_channels = in_channels, .out_channels = out_channels, .kernel_size = kernel_size}) {}

  // x: (N, in_channels, H, W) -> (N, out_channels, OH, OW)
  Tensor forward(const Tensor& x) override;
  // PyTorch's default initialisation (init::layer_default_); the constructor calls it.
  void reset_parameters();

  const Conv2dOptions& options() const { return options_; }
  // The op-level geometry (stride, padding, dilation, groups) the forward passes to conv2d.
  maskdet::Conv2dOptions geometry() const;
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias

 protected:
  std::string extra_repr() const override;

 private:
  Conv2dOptions options_;
  Tensor weight_;
  Tensor bias_;
};

}  // namespace maskdet::nn
