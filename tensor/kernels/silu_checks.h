// The argument checks of the SiLU kernels (tensor/kernels/silu.h), for both backends
// (tensor/kernels/kernel_checks.h says how they share them): the CPU walks any strides, the
// CUDA kernels need every operand dense and on x's GPU.
#pragma once
#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// x: any shape; out: x's shape and dtype.
inline void check_silu_forward_args(const Tensor& x, const Tensor& out, Backend backend) {
  check_operand(x, x, x.shape(), "silu_forward", "x", /*optional=*/false, backend);
  check_operand(out, x, x.shape(), "silu_forward", "out", /*optional=*/false, backend);
}

// grad_out, x, grad_x: one shape and dtype.
inline void check_silu_backward_args(const Tensor& grad_out, const Tensor& x, const Tensor& grad_x,
                                     Backend backend) {
  check_operand(x, x, x.shape(), "silu_backward", "x", /*optional=*/false, backend);
  check_operand(grad_out, x, x.shape(), "silu_backward", "grad_out", /*optional=*/false, backend);
  check_operand(grad_x, x, x.shape(), "silu_backward", "grad_x", /*optional=*/false, backend);
}

}  // namespace maskdet::kernels
