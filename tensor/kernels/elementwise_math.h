// The scalar maths of the elementwise kernels (tensor/kernels/elementwise.h), each unary op's
// value and derivative, each binary op and comparison. Written once for both backends
// (tensor/cpu/elementwise.cpp, cuda/kernels/elementwise.cu), as tensor/kernels/silu_math.h is;
// the kernels' argument checks are in tensor/kernels/elementwise_checks.h. Plain C maths on
// float and double overloads only, so it compiles as device code under nvcc and a float never
// goes through the double function (std::exp(float) on the host is expf too).
#pragma once
#include <math.h>
#include <stdint.h>

#include "tensor/kernels/elementwise.h"
#include "tensor/kernels/scalar_math.h"
#include "tensor/kernels/silu_math.h"

namespace maskdet::kernels::elementwise_math {

// sigmoid split by sign so exp never overflows; exponential(float) is expf.
using scalar_math::absolute;
using scalar_math::exponential;
using scalar_math::logarithm;
using scalar_math::power;
using scalar_math::square_root;
using silu_math::sigmoid;

// Each formula is a template on its op, so a loop whose op is a compile-time constant compiles to
// that formula alone and vectorises (the CPU kernels); the run-time versions below switch to them
// (the CUDA kernels).

// f(x) for op; a, b are its parameters (Clamp: lo, hi; Pow: exponent).
template <UnaryOp Op, class T>
MASKDET_SCALAR_HD inline T unary_value(T x, double a, double b) {
  if constexpr (Op == UnaryOp::Neg) return -x;
  else if constexpr (Op == UnaryOp::Exp) return exponential(x);
  else if constexpr (Op == UnaryOp::Log) return logarithm(x);
  else if constexpr (Op == UnaryOp::Sigmoid) return sigmoid(x);
  else if constexpr (Op == UnaryOp::Relu) return x > T(0) ? x : T(0);
  else if constexpr (Op == UnaryOp::Abs) return absolute(x);
  else if constexpr (Op == UnaryOp::Clamp) {
    // Two single selects, not one nested: SSE2 has no blend, and GCC vectorises only the former.
    // NaN fails both comparisons and comes through, as in PyTorch.
    const T low = x < T(a) ? T(a) : x;
    return low > T(b) ? T(b) : low;
  }
  else if constexpr (Op == UnaryOp::Pow) return power(x, T(a));
  else if constexpr (Op == UnaryOp::Sqrt) return square_root(x);
  else return T((x > T(0)) - (x < T(0)));  // Sign
}

// d f(x) / dx, given y = f(x); at the kinks the side PyTorch takes (elementwise.h).
template <UnaryOp Op, class T>
MASKDET_SCALAR_HD inline T unary_derivative(T x, T y, double a, double b) {
  if constexpr (Op == UnaryOp::Neg) return T(-1);
  else if constexpr (Op == UnaryOp::Exp) return y;
  else if constexpr (Op == UnaryOp::Log) return T(1) / x;
  else if constexpr (Op == UnaryOp::Sigmoid) return y * (T(1) - y);
  else if constexpr (Op == UnaryOp::Relu) return x > T(0) ? T(1) : T(0);
  else if constexpr (Op == UnaryOp::Abs) return T((x > T(0)) - (x < T(0)));
  else if constexpr (Op == UnaryOp::Clamp) return T(x >= T(a)) * T(x <= T(b));
  else if constexpr (Op == UnaryOp::Pow) return a == 0.0 ? T(0) : T(a) * power(x, T(a - 1.0));
  else if constexpr (Op == UnaryOp::Sqrt) return T(0.5) / y;
  else return T(0);  // Sign
}

// grad_out * f'(x), the backward's value: ReLU's as a select, which passes no NaN or infinity of
// grad_out where x <= 0 (PyTorch's threshold_backward) and vectorises where the product with 0 or
// 1 became a branch per element.
template <UnaryOp Op, class T>
MASKDET_SCALAR_HD inline T unary_gradient(T grad_out, T x, T y, double a, double b) {
  if constexpr (Op == UnaryOp::Relu) return x > T(0) ? grad_out : T(0);
  else return grad_out * unary_derivative<Op>(x, y, a, b);
}

// a (op) b for the arithmetic ops; NaNs pass through maximum / minimum as the comparisons let them.
template <BinaryOp Op, class T>
MASKDET_SCALAR_HD inline T binary_value(T a, T b) {
  if constexpr (Op == BinaryOp::Add) return a + b;
  else if constexpr (Op == BinaryOp::Sub) return a - b;
  else if constexpr (Op == BinaryOp::Mul) return a * b;
  else if constexpr (Op == BinaryOp::Div) return a / b;
  else if constexpr (Op == BinaryOp::Maximum) return a > b ? a : b;
  else if constexpr (Op == BinaryOp::Minimum) return a < b ? a : b;
  else return T(0);
}

#define MASKDET_UNARY_CASES(CASE)                                                                  \
  CASE(Neg) CASE(Exp) CASE(Log) CASE(Sigmoid) CASE(Relu) CASE(Abs) CASE(Clamp) CASE(Pow) CASE(Sqrt) \
  CASE(Sign)

template <class T>
MASKDET_SCALAR_HD inline T unary_value(UnaryOp op, T x, double a, double b) {
  switch (op) {
#define MASKDET_CASE(name) \
  case UnaryOp::name: return unary_value<UnaryOp::name>(x, a, b);
    MASKDET_UNARY_CASES(MASKDET_CASE)
#undef MASKDET_CASE
  }
  return x;
}

template <class T>
MASKDET_SCALAR_HD inline T unary_derivative(UnaryOp op, T x, T y, double a, double b) {
  switch (op) {
#define MASKDET_CASE(name) \
  case UnaryOp::name: return unary_derivative<UnaryOp::name>(x, y, a, b);
    MASKDET_UNARY_CASES(MASKDET_CASE)
#undef MASKDET_CASE
  }
  return T(0);
}

template <class T>
MASKDET_SCALAR_HD inline T unary_gradient(UnaryOp op, T grad_out, T x, T y, double a, double b) {
  switch (op) {
#define MASKDET_CASE(name) \
  case UnaryOp::name: return unary_gradient<UnaryOp::name>(grad_out, x, y, a, b);
    MASKDET_UNARY_CASES(MASKDET_CASE)
#undef MASKDET_CASE
  }
  return T(0);
}
#undef MASKDET_UNARY_CASES

template <class T>
MASKDET_SCALAR_HD inline T binary_value(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add: return binary_value<BinaryOp::Add>(a, b);
    case BinaryOp::Sub: return binary_value<BinaryOp::Sub>(a, b);
    case BinaryOp::Mul: return binary_value<BinaryOp::Mul>(a, b);
    case BinaryOp::Div: return binary_value<BinaryOp::Div>(a, b);
    case BinaryOp::Maximum: return binary_value<BinaryOp::Maximum>(a, b);
    case BinaryOp::Minimum: return binary_value<BinaryOp::Minimum>(a, b);
    default: return T(0);
  }
}

// 1 or 0 for the comparison ops.
template <class T>
MASKDET_SCALAR_HD inline uint8_t compare(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Eq: return a == b;
    case BinaryOp::Ne: return a != b;
    case BinaryOp::Lt: return a < b;
    case BinaryOp::Le: return a <= b;
    case BinaryOp::Gt: return a > b;
    case BinaryOp::Ge: return a >= b;
    default: return 0;
  }
}

}  // namespace maskdet::kernels::elementwise_math

