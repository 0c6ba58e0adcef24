// Nearest-neighbour 2-D upsampling kernels (torch.nn.functional.interpolate, mode='nearest'),
// and the source-index rule they share with the CUDA version.
#pragma once
#include <algorithm>
#include <cmath>

#include "tensor/kernels/dispatch.h"

namespace maskdet {

// The input row (or column) that output row `dst` copies. PyTorch's 'nearest' rule, kept
// bit for bit (including its float32 arithmetic, which decides rounding at odd sizes):
// src = min(floor(dst * s), in - 1) with s = 1 / scale when the caller gave a scale factor
// (scale > 0) and s = in / out otherwise; equal sizes and exact doubling take the direct path.
inline int64_t nearest_source_index(int64_t dst, int64_t in, int64_t out, double scale) {
  if (out == in) return dst;
  if (out == 2 * in) return dst >> 1;
  const float src_per_dst =
      scale > 0 ? static_cast<float>(1.0 / scale) : static_cast<float>(in) / static_cast<float>(out);
  return std::min(static_cast<int64_t>(std::floor(static_cast<float>(dst) * src_per_dst)), in - 1);
}

// out[n][c][i][j] = x[n][c][src(i)][src(j)] with src = nearest_source_index. scale_h, scale_w:
// the scale factors the caller asked for, or 0 when it gave the output size. Overwrites out.
MASKDET_KERNEL(upsample_nearest2d_forward,
               (const Tensor& x,    // (N, C, H, W), contiguous
                const Tensor& out,  // (N, C, OH, OW), contiguous
                double scale_h, double scale_w),
               x.device(), x, out, scale_h, scale_w)

// grad_x[n][c][h][w] = sum of grad_out[n][c][i][j] over the (i, j) whose source is (h, w).
// Overwrites grad_x (it is zeroed first).
MASKDET_KERNEL(upsample_nearest2d_backward,
               (const Tensor& grad_out,  // (N, C, OH, OW), contiguous
                const Tensor& grad_x,    // (N, C, H, W), contiguous
                double scale_h, double scale_w),
               grad_out.device(), grad_out, grad_x, scale_h, scale_w)

}  // namespace maskdet
