// Batch normalisation kernels (Ioffe & Szegedy 2015, "Batch Normalization: Accelerating Deep
// Network Training by Reducing Internal Covariate Shift"). The three signatures follow
// cuDNN's cudnnBatchNormalizationForwardTraining / ForwardInference / Backward so that a
// CUDA backend can map onto them one to one.
//
// Layout: x is (N, C) or (N, C, H, W), more generally (N, C, *spatial); statistics are per
// channel over the N * spatial values of that channel ("M" below). Tensors handed to these
// kernels are contiguous and per-channel vectors are (C); an undefined weight means no affine
// (scale 1, shift 0).
#pragma once
#include "tensor/kernels/dispatch.h"

namespace maskdet {

// Normalises x with its own batch statistics:
//   out = (x - mean_c) * invstd_c * weight_c + bias_c,  invstd_c = 1 / sqrt(var_c + eps),
// var_c the biased (divide by M) batch variance. Writes save_mean = mean_c and
// save_invstd = invstd_c for the backward. When running_mean/running_var are defined they are
// updated in place: running = (1 - momentum) * running + momentum * batch, the variance term
// being the unbiased one (divide by M - 1), as PyTorch does. M must be > 1.
// Statistics accumulate in double. Overwrites out, save_mean, save_invstd.
MASKDET_KERNEL(batch_norm_forward_training,
               (const Tensor& x,             // (N, C, *spatial)
                const Tensor& weight,        // (C) or undefined
                const Tensor& bias,          // (C) or undefined
                const Tensor& running_mean,  // (C) or undefined; updated in place
                const Tensor& running_var,   // (C) or undefined; updated in place
                double momentum, double eps,
                const Tensor& out,           // (N, C, *spatial)
                const Tensor& save_mean,     // (C)
                const Tensor& save_invstd),  // (C)
               x.device(), x, weight, bias, running_mean, running_var, momentum, eps, out, save_mean, save_invstd)

// out = (x - running_mean_c) / sqrt(running_var_c + eps) * weight_c + bias_c. Overwrites out.
MASKDET_KERNEL(batch_norm_forward_inference,
               (const Tensor& x,             // (N, C, *spatial)
                const Tensor& weight,        // (C) or undefined
                const Tensor& bias,          // (C) or undefined
                const Tensor& running_mean,  // (C)
                const Tensor& running_var,   // (C)
                double eps,
                const Tensor& out),          // (N, C, *spatial)
               x.device(), x, weight, bias, running_mean, running_var, eps, out)

// Training-mode backward, through the batch statistics. With xhat = (x - mean) * invstd:
//   grad_bias_c   = sum(grad_out)
//   grad_weight_c = sum(grad_out * xhat)
//   grad_x        = weight_c * invstd_c / M * (M * grad_out - grad_bias_c - xhat * grad_weight_c)
// Any of grad_x, grad_weight, grad_bias may be undefined (not wanted). eps is the forward's:
// the CPU reads invstd from save_invstd and never uses it, but cuDNN's backward asks for the
// forward's epsilon. Sums accumulate in double. Overwrites the defined outputs.
MASKDET_KERNEL(batch_norm_backward,
               (const Tensor& grad_out,     // (N, C, *spatial)
                const Tensor& x,            // (N, C, *spatial)
                const Tensor& weight,       // (C) or undefined
                const Tensor& save_mean,    // (C), from the forward
                const Tensor& save_invstd,  // (C), from the forward
                double eps,                 // the forward's
                const Tensor& grad_x,       // (N, C, *spatial) or undefined
                const Tensor& grad_weight,  // (C) or undefined
                const Tensor& grad_bias),   // (C) or undefined
               x.device(), grad_out, x, weight, save_mean, save_invstd, eps, grad_x, grad_weight, grad_bias)

}  // namespace maskdet
