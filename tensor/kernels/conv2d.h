// 2-D convolution (cross-correlation, as torch.nn.functional.conv2d) and its two backward
// passes. The bias gradient is a plain sum over (N, OH, OW), left to the op layer.
#pragma once
#include "tensor/kernels/dispatch.h"

namespace maskdet {

// The geometry of a convolution; the op layer fills it from Conv2dOptions (tensor/ does not
// see autograd/).
struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;

  // Output extent along one axis; 0 when the (dilated) kernel does not fit in the padded input.
  static int64_t out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
    const int64_t last_start = in + 2 * pad - dilation * (kernel - 1) - 1;  // of the last window
    return last_start < 0 ? 0 : last_start / stride + 1;
  }
  int64_t out_h(int64_t h, int64_t kh) const { return out_size(h, kh, stride_h, pad_h, dilation_h); }
  int64_t out_w(int64_t w, int64_t kw) const { return out_size(w, kw, stride_w, pad_w, dilation_w); }
};

// All buffers contiguous and of one float dtype; G = params.groups divides C and O.
//   x:      (N, C, H, W)
//   weight: (O, C / G, KH, KW)
//   out:    (N, O, OH, OW), OH = params.out_h(H, KH), OW = params.out_w(W, KW)

// out = conv(x, weight) + bias. bias: (O), or undefined for none. OVERWRITES out.
MASKDET_KERNEL(conv2d_forward,
               (const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out,
                const Conv2dParams& params),
               x.device(), x, weight, bias, out, params)

// grad_x = d(sum(grad_out * conv(x, weight))) / dx.
// grad_out: (N, O, OH, OW); weight: (O, C / G, KH, KW); grad_x: (N, C, H, W). OVERWRITES grad_x.
MASKDET_KERNEL(conv2d_backward_data,
               (const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x, const Conv2dParams& params),
               grad_out.device(), grad_out, weight, grad_x, params)

// grad_weight = d(sum(grad_out * conv(x, weight))) / dweight.
// grad_out: (N, O, OH, OW); x: (N, C, H, W); grad_weight: (O, C / G, KH, KW). OVERWRITES grad_weight.
MASKDET_KERNEL(conv2d_backward_filter,
               (const Tensor& grad_out, const Tensor& x, const Tensor& grad_weight, const Conv2dParams& params),
               grad_out.device(), grad_out, x, grad_weight, params)

}  // namespace maskdet
