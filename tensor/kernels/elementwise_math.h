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

// f(x) for op; a, b are its parameters (Clamp: lo, hi; Pow: exponent).
template <class T>
MASKDET_SCALAR_HD inline T unary_value(UnaryOp op, T x, double a, double b) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return exponential(x);
    case UnaryOp::Log: return logarithm(x);
    case UnaryOp::Sigmoid: return sigmoid(x);
    case UnaryOp::Relu: return x > T(0) ? x : T(0);
    case UnaryOp::Abs: return absolute(x);
    case UnaryOp::Clamp: return x < T(a) ? T(a) : (x > T(b) ? T(b) : x);
    case UnaryOp::Pow: return power(x, T(a));
    case UnaryOp::Sqrt: return square_root(x);
    case UnaryOp::Sign: return T((x > T(0)) - (x < T(0)));
  }
  return x;
}

// d f(x) / dx, given y = f(x); at the kinks the side PyTorch takes (elementwise.h).
template <class T>
MASKDET_SCALAR_HD inline T unary_derivative(UnaryOp op, T x, T y, double a, double b) {
  switch (op) {
    case UnaryOp::Neg: return T(-1);
    case UnaryOp::Exp: return y;
    case UnaryOp::Log: return T(1) / x;
    case UnaryOp::Sigmoid: return y * (T(1) - y);
    case UnaryOp::Relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::Abs: return T((x > T(0)) - (x < T(0)));
    case UnaryOp::Clamp: return (x >= T(a) && x <= T(b)) ? T(1) : T(0);
    case UnaryOp::Pow: return a == 0.0 ? T(0) : T(a) * power(x, T(a - 1.0));
    case UnaryOp::Sqrt: return T(0.5) / y;
    case UnaryOp::Sign: return T(0);
  }
  return T(0);
}

// a (op) b for the arithmetic ops; NaNs pass through maximum / minimum as the comparisons let them.
template <class T>
MASKDET_SCALAR_HD inline T binary_value(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Maximum: return a > b ? a : b;
    case BinaryOp::Minimum: return a < b ? a : b;
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

