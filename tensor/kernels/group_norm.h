// Group normalisation kernels (Wu & He 2018, "Group Normalization"). The channels of each
// sample are split into G groups of D = C / G consecutive channels; each (sample, group) is
// normalised with its own mean and (biased) variance over its D * spatial values ("M" below),
// then every channel gets its own affine map:
//   out = (x - mean_ng) * rstd_ng * weight_c + bias_c,  rstd_ng = 1 / sqrt(var_ng + eps).
// No running statistics: training and inference compute the same thing.
//
// Tensors handed to these kernels are contiguous; x is (N, C, *spatial) and an undefined weight
// means no affine (scale 1, shift 0).
#pragma once
#include <cstdint>

#include "tensor/kernels/dispatch.h"

namespace maskdet {

// Writes out, and save_mean / save_rstd for the backward. Statistics accumulate in double.
// Overwrites out, save_mean, save_rstd.
MASKDET_KERNEL(group_norm_forward,
               (const Tensor& x,          // (N, C, *spatial)
                const Tensor& weight,     // (C) or undefined
                const Tensor& bias,       // (C) or undefined
                int64_t num_groups, double eps,
                const Tensor& out,        // (N, C, *spatial)
                const Tensor& save_mean,  // (N, G)
                const Tensor& save_rstd), // (N, G)
               x.device(), x, weight, bias, num_groups, eps, out, save_mean, save_rstd)

// With xhat = (x - mean_ng) * rstd_ng and dxhat = grad_out * weight_c:
//   grad_bias_c   = sum over n, spatial of grad_out
//   grad_weight_c = sum over n, spatial of grad_out * xhat
//   grad_x        = rstd_ng / M * (M * dxhat - sum_group(dxhat) - xhat * sum_group(dxhat * xhat))
// Any of grad_x, grad_weight, grad_bias may be undefined (not wanted). Sums accumulate in
// double. Overwrites the defined outputs.
MASKDET_KERNEL(group_norm_backward,
               (const Tensor& grad_out,     // (N, C, *spatial)
                const Tensor& x,            // (N, C, *spatial)
                const Tensor& weight,       // (C) or undefined
                const Tensor& save_mean,    // (N, G), from the forward
                const Tensor& save_rstd,    // (N, G), from the forward
                int64_t num_groups,
                const Tensor& grad_x,       // (N, C, *spatial) or undefined
                const Tensor& grad_weight,  // (C) or undefined
                const Tensor& grad_bias),   // (C) or undefined
               x.device(), grad_out, x, weight, save_mean, save_rstd, num_groups, grad_x, grad_weight, grad_bias)

}  // namespace maskdet
