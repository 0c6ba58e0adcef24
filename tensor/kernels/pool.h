// 2-D max pooling kernels, and the output-size rule they share with the op that allocates
// their outputs (the same rule as torch.nn.functional.max_pool2d).
#pragma once
#include "tensor/kernels/dispatch.h"

namespace maskdet {

// Output length of a pooling window sliding over `in` values with `pad` on both sides:
// floor((in + 2 pad - kernel) / stride) + 1, or the ceiling with ceil_mode. In ceil_mode the
// extra last window must still start inside the input or the left padding, else it is
// dropped. May return <= 0 for windows that do not fit; callers reject that.
constexpr int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, bool ceil_mode) {
  const int64_t span = in + 2 * pad - kernel;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// Where a 2-D pooling window sits: sizes, strides and the padding on each side, in pixels.
struct Pool2dWindow {
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t pad_h, pad_w;
  bool ceil_mode;
};

// out[n][c][oh][ow] = max of x[n][c] over the window at (oh * stride_h - pad_h,
// ow * stride_w - pad_w); padded positions count as -inf, and a NaN in the window wins.
// indices gets the argmax as a flat index h * W + w into the (H, W) plane (the first maximum
// on ties). Overwrites out and indices.
MASKDET_KERNEL(max_pool2d_forward,
               (const Tensor& x,        // (N, C, H, W), contiguous
                const Tensor& out,      // (N, C, OH, OW), contiguous; OH, OW from pool_output_size
                const Tensor& indices,  // (N, C, OH, OW), int64, contiguous
                const Pool2dWindow& window),
               x.device(), x, out, indices, window)

// grad_x[n][c] = sum over outputs o of that plane of grad_out[n][c][o] placed at indices[n][c][o].
// Windows overlap when stride < kernel, so several outputs may add into one input pixel.
// Overwrites grad_x (it is zeroed first).
MASKDET_KERNEL(max_pool2d_backward,
               (const Tensor& grad_out,  // (N, C, OH, OW), contiguous
                const Tensor& indices,   // (N, C, OH, OW), int64, from the forward
                const Tensor& grad_x),   // (N, C, H, W), contiguous
               grad_out.device(), grad_out, indices, grad_x)

}  // namespace maskdet
