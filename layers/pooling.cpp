// MaxPool2d layer: the forward through max_pool2d.
#include "layers/pooling.h"

#include "autograd/ops.h"

namespace maskdet::nn {

MaxPool2d::MaxPool2d(const MaxPool2dOptions& options) : UnaryModule("MaxPool2d"), options_(options) {
  if (options_.stride == 0) options_.stride = options_.kernel_size;
  MASKDET_CHECK(options_.kernel_size > 0 && options_.stride > 0, "MaxPool2d: kernel_size (", options_.kernel_size,
                ") and stride (", options_.stride, ") must be positive");
  // PyTorch's rule: the padding may be at most half the window, so every window sees an input.
  MASKDET_CHECK(options_.padding >= 0 && 2 * options_.padding <= options_.kernel_size, "MaxPool2d: padding (",
                options_.padding, ") must be between 0 and half the kernel size (", options_.kernel_size, ")");
}

Tensor MaxPool2d::forward(const Tensor& x) {
  Pool2dOptions window;
  window.kernel_h = window.kernel_w = options_.kernel_size;
  window.stride_h = window.stride_w = options_.stride;
  window.pad_h = window.pad_w = options_.padding;
  window.ceil_mode = options_.ceil_mode;
  return max_pool2d(x, window);
}

std::string MaxPool2d::extra_repr() const {
  return "kernel_size=" + std::to_string(options_.kernel_size) + ", stride=" + std::to_string(options_.stride) +
         ", padding=" + std::to_string(options_.padding) + ", ceil_mode=" + (options_.ceil_mode ? "True" : "False");
}

}  // namespace maskdet::nn
