// Elementwise kernels: unary maths with their derivatives, broadcasting binary ops, where.
#pragma once
#include "tensor/kernels/dispatch.h"

namespace maskdet {
namespace kernels {

enum class UnaryOp { Neg, Exp, Log, Sigmoid, Relu, Abs, Clamp, Pow, Sqrt, Sign };
const char* unary_op_name(UnaryOp op);

enum class BinaryOp { Add, Sub, Mul, Div, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge };
const char* binary_op_name(BinaryOp op);
inline bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }

}  // namespace kernels

// out = f(x), f chosen by op; a, b are its parameters (Clamp: lo, hi; Pow: exponent).
// x: any shape and strides; out: same shape and dtype. Overwrites out. Floating dtypes.
MASKDET_KERNEL(unary_forward,
               (kernels::UnaryOp op, const Tensor& x, const Tensor& out, double a, double b),
               x.device(), op, x, out, a, b)

// grad_x = grad_out * f'(x). y = f(x) is passed too (sigmoid and exp use it).
// All four: same shape. Overwrites grad_x. At a kink (relu, abs, clamp at 0 or the bounds)
// the derivative is taken from the side PyTorch takes (0 for relu at 0, 0 for abs at 0,
// 1 inside [lo, hi] including the bounds).
MASKDET_KERNEL(unary_backward,
               (kernels::UnaryOp op, const Tensor& grad_out, const Tensor& x, const Tensor& y,
                const Tensor& grad_x, double a, double b),
               x.device(), op, grad_out, x, y, grad_x, a, b)

// out = a (op) b. a and b are already expanded to out's shape (stride-0 views are fine)
// and share a dtype; out has that dtype, or uint8 (0/1) for comparisons. out may be a or b
// (in-place accumulation). Overwrites out.
MASKDET_KERNEL(binary_forward,
               (kernels::BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out),
               out.device(), op, a, b, out)

// out = mask ? a : b. mask: uint8, a, b: one dtype; all expanded to out's shape. Overwrites out.
MASKDET_KERNEL(where_forward,
               (const Tensor& mask, const Tensor& a, const Tensor& b, const Tensor& out),
               out.device(), mask, a, b, out)

}  // namespace maskdet
