// The argument checks of the convolution kernels (tensor/kernels/conv2d.h), for both backends
// (tensor/kernels/kernel_checks.h says how they share them), and the sizes they establish.
#pragma once
#include <cstdint>

#include "tensor/kernels/conv2d.h"
#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// A convolution of x (batch, channels, height, width) with weight (out_channels,
// channels / groups, kernel_h, kernel_w) into (batch, out_channels, out_h, out_w).
struct Conv2dShape {
  int64_t batch, channels, height, width;
  int64_t out_channels, kernel_h, kernel_w;
  int64_t out_h, out_w;
  Conv2dParams params;
};

// The operands of every direction, named as the forward names them: x (grad_x backward data),
// weight (grad_weight backward filter) and out (grad_out backward).
inline Conv2dShape check_conv2d_operands(const Tensor& x, const Tensor& weight, const Tensor& out,
                                         const Conv2dParams& p, const char* kernel, Backend backend) {
  check_device(x, x.device(), kernel, "x", backend);
  check_device(weight, x.device(), kernel, "weight", backend);
  check_device(out, x.device(), kernel, "out", backend);
  MASKDET_CHECK(x.dim() == 4 && weight.dim() == 4 && out.dim() == 4, kernel, ": expected 4-D tensors, got x ",
                shape_str(x.shape()), ", weight ", shape_str(weight.shape()), ", out ", shape_str(out.shape()));
  MASKDET_CHECK(x.dtype() == weight.dtype() && x.dtype() == out.dtype(), kernel, ": dtypes differ");
  MASKDET_CHECK(x.is_contiguous() && weight.is_contiguous() && out.is_contiguous(), kernel,
                ": tensors must be contiguous");
  const Conv2dShape s{x.size(0),      x.size(1),      x.size(2),
                      x.size(3),      weight.size(0), weight.size(2),
                      weight.size(3), p.out_h(x.size(2), weight.size(2)), p.out_w(x.size(3), weight.size(3)),
                      p};
  MASKDET_CHECK(p.groups >= 1 && s.channels % p.groups == 0 && s.out_channels % p.groups == 0 &&
                    weight.size(1) == s.channels / p.groups,
                kernel, ": weight ", shape_str(weight.shape()), " does not fit x ", shape_str(x.shape()),
                " with groups ", p.groups);
  // cuDNN refuses such a descriptor; the CPU lowerings have never checked.
  if (backend == Backend::Cuda)
    MASKDET_CHECK(p.stride_h >= 1 && p.stride_w >= 1 && p.dilation_h >= 1 && p.dilation_w >= 1 && p.pad_h >= 0 &&
                      p.pad_w >= 0,
                  kernel, ": stride ", shape_str({p.stride_h, p.stride_w}), " and dilation ",
                  shape_str({p.dilation_h, p.dilation_w}), " must be >= 1 and padding ",
                  shape_str({p.pad_h, p.pad_w}), " >= 0");
  const Shape expected{s.batch, s.out_channels, s.out_h, s.out_w};
  MASKDET_CHECK(out.shape() == expected, kernel, ": output has shape ", shape_str(out.shape()), ", expected ",
                shape_str(expected));
  return s;
}

// x: (N, C, H, W); weight: (O, C / G, KH, KW); bias: (O) or undefined; out: (N, O, OH, OW).
inline Conv2dShape check_conv2d_forward_args(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                             const Tensor& out, const Conv2dParams& params, Backend backend) {
  constexpr const char* kernel = "conv2d_forward";
  const Conv2dShape s = check_conv2d_operands(x, weight, out, params, kernel, backend);
  if (bias.defined()) {
    check_device(bias, x.device(), kernel, "bias", backend);
    MASKDET_CHECK(bias.dim() == 1 && bias.size(0) == s.out_channels && bias.is_contiguous() &&
                      bias.dtype() == x.dtype(),
                  kernel, ": bias has shape ", shape_str(bias.shape()), ", expected ", shape_str({s.out_channels}));
  }
  return s;
}

// grad_out: (N, O, OH, OW); weight: (O, C / G, KH, KW); grad_x: (N, C, H, W).
inline Conv2dShape check_conv2d_backward_data_args(const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x,
                                                   const Conv2dParams& params, Backend backend) {
  return check_conv2d_operands(grad_x, weight, grad_out, params, "conv2d_backward_data", backend);
}

// grad_out: (N, O, OH, OW); x: (N, C, H, W); grad_weight: (O, C / G, KH, KW).
inline Conv2dShape check_conv2d_backward_filter_args(const Tensor& grad_out, const Tensor& x,
                                                     const Tensor& grad_weight, const Conv2dParams& params,
                                                     Backend backend) {
  return check_conv2d_operands(x, grad_weight, grad_out, params, "conv2d_backward_filter", backend);
}

}  // namespace maskdet::kernels
