// The argument checks of the elementwise kernels (tensor/kernels/elementwise.h), for both
// backends (tensor/kernels/kernel_checks.h says how they share them). Operands may have any
// strides on both.
#pragma once
#include "tensor/kernels/elementwise.h"
#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// x, out: one shape and dtype.
inline void check_unary_forward_args(const Tensor& x, const Tensor& out, Backend backend) {
  check_device(x.device(), "unary_forward", {{&x, "x"}, {&out, "out"}}, backend);
  check_same_shape(out, x.shape(), "unary_forward", "out");
  MASKDET_CHECK(out.dtype() == x.dtype(), "unary_forward: out is ", dtype_name(out.dtype()), ", x is ",
                dtype_name(x.dtype()));
}

// grad_out, y, grad_x: x's shape.
inline void check_unary_backward_args(const Tensor& grad_out, const Tensor& x, const Tensor& y, const Tensor& grad_x,
                                      Backend backend) {
  check_device(x.device(), "unary_backward", {{&x, "x"}, {&grad_out, "grad_out"}, {&y, "y"}, {&grad_x, "grad_x"}},
               backend);
  check_same_shape(grad_out, x.shape(), "unary_backward", "grad_out");
  check_same_shape(y, x.shape(), "unary_backward", "y");
  check_same_shape(grad_x, x.shape(), "unary_backward", "grad_x");
}

// a, b: out's shape, one dtype; out: that dtype, or uint8 for the comparisons.
inline void check_binary_forward_args(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out,
                                      Backend backend) {
  check_device(out.device(), binary_op_name(op), {{&out, "out"}, {&a, "a"}, {&b, "b"}}, backend);
  check_same_shape(a, out.shape(), "binary_forward", "a");
  check_same_shape(b, out.shape(), "binary_forward", "b");
  MASKDET_CHECK(a.dtype() == b.dtype(), binary_op_name(op), ": dtypes differ: ", dtype_name(a.dtype()), " and ",
                dtype_name(b.dtype()));
  MASKDET_CHECK(out.dtype() == (is_comparison(op) ? DType::UInt8 : a.dtype()), binary_op_name(op), ": out is ",
                dtype_name(out.dtype()));
}

// mask (uint8), a, b: out's shape; a, b, out: one dtype.
inline void check_where_forward_args(const Tensor& mask, const Tensor& a, const Tensor& b, const Tensor& out,
                                     Backend backend) {
  check_device(out.device(), "where", {{&out, "out"}, {&mask, "mask"}, {&a, "a"}, {&b, "b"}}, backend);
  check_same_shape(mask, out.shape(), "where", "mask");
  check_same_shape(a, out.shape(), "where", "a");
  check_same_shape(b, out.shape(), "where", "b");
  MASKDET_CHECK(mask.dtype() == DType::UInt8, "where: mask must be uint8, got ", dtype_name(mask.dtype()));
  MASKDET_CHECK(a.dtype() == b.dtype() && a.dtype() == out.dtype(), "where: dtypes differ: ", dtype_name(a.dtype()),
                ", ", dtype_name(b.dtype()), ", out ", dtype_name(out.dtype()));
}

}  // namespace maskdet::kernels
