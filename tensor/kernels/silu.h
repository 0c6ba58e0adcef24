// SiLU / Swish kernels, silu(x) = x * sigmoid(x): the worked example of docs/ADDING_A_LAYER.md.
// One signature each, declared for cpu:: (tensor/cpu/silu.cpp) and cuda:: (cuda/kernels/silu.cu)
// by MASKDET_KERNEL (tensor/kernels/dispatch.h), which also defines the kernels:: dispatcher.
// The maths both backends share is in tensor/kernels/silu_math.h.
#pragma once
#include "tensor/kernels/dispatch.h"

namespace maskdet {

// out = x * sigmoid(x). x: any shape, float32 or float64; out: x's shape and dtype. Overwrites
// out. CPU: any strides. CUDA: x and out contiguous (the op makes them so).
MASKDET_KERNEL(silu_forward, (const Tensor& x, const Tensor& out), x.device(), x, out)

// grad_x = grad_out * silu'(x), silu'(x) = s (1 + x (1 - s)) with s = sigmoid(x), recomputed
// from x rather than saved. grad_out, x, grad_x: one shape and dtype. Overwrites grad_x (the
// engine sums gradients, not the kernel). CPU: any strides. CUDA: all three contiguous.
MASKDET_KERNEL(silu_backward, (const Tensor& grad_out, const Tensor& x, const Tensor& grad_x), x.device(), grad_out,
               x, grad_x)

}  // namespace maskdet
