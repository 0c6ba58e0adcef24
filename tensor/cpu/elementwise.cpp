// CPU elementwise kernels: unary maths and derivatives, broadcasting binary ops, where.
#include <cmath>

#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/elementwise.h"

namespace maskdet {
namespace kernels {

const char* unary_op_name(UnaryOp op) {
  static const char* names[] = {"neg", "exp", "log", "sigmoid", "relu", "abs", "clamp", "pow", "sqrt", "sign"};
  return names[static_cast<int>(op)];
}

const char* binary_op_name(BinaryOp op) {
  static const char* names[] = {"add", "sub", "mul", "div", "maximum", "minimum",
                                "eq",  "ne",  "lt",  "le",  "gt",      "ge"};
  return names[static_cast<int>(op)];
}

}  // namespace kernels

namespace cpu {
using kernels::BinaryOp;
using kernels::UnaryOp;

namespace {

template <class T>
T sigmoid(T x) {
  // Split by sign so exp never overflows.
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

template <class T>
T unary_value(UnaryOp op, T x, double a, double b) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return std::exp(x);
    case UnaryOp::Log: return std::log(x);
    case UnaryOp::Sigmoid: return sigmoid(x);
    case UnaryOp::Relu: return x > T(0) ? x : T(0);
    case UnaryOp::Abs: return std::abs(x);
    case UnaryOp::Clamp: return x < T(a) ? T(a) : (x > T(b) ? T(b) : x);
    case UnaryOp::Pow: return std::pow(x, T(a));
    case UnaryOp::Sqrt: return std::sqrt(x);
    case UnaryOp::Sign: return T((x > T(0)) - (x < T(0)));
  }
  return x;
}

// d f(x) / dx, given y = f(x).
template <class T>
T unary_derivative(UnaryOp op, T x, T y, double a, double b) {
  switch (op) {
    case UnaryOp::Neg: return T(-1);
    case UnaryOp::Exp: return y;
    case UnaryOp::Log: return T(1) / x;
    case UnaryOp::Sigmoid: return y * (T(1) - y);
    case UnaryOp::Relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::Abs: return T((x > T(0)) - (x < T(0)));
    case UnaryOp::Clamp: return (x >= T(a) && x <= T(b)) ? T(1) : T(0);
    case UnaryOp::Pow: return a == 0.0 ? T(0) : T(a) * std::pow(x, T(a - 1.0));
    case UnaryOp::Sqrt: return T(0.5) / y;
    case UnaryOp::Sign: return T(0);
  }
  return T(0);
}

template <class T>
T binary_value(BinaryOp op, T a, T b) {
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

template <class T>
uint8_t compare(BinaryOp op, T a, T b) {
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

}  // namespace

void unary_forward(UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) {
  check_same_shape(out, x.shape(), "unary_forward", "out");
  MASKDET_CHECK(out.dtype() == x.dtype(), "unary_forward: out is ", dtype_name(out.dtype()), ", x is ",
                dtype_name(x.dtype()));
  dispatch_floating(x.dtype(), kernels::unary_op_name(op), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    T* op_ = out.data_ptr<T>();
    for_each_offset<2>(x.shape(), {x.strides(), out.strides()},
                       [&](const std::array<int64_t, 2>& o) { op_[o[1]] = unary_value(op, xp[o[0]], a, b); });
  });
}

void unary_backward(UnaryOp op, const Tensor& grad_out, const Tensor& x, const Tensor& y, const Tensor& grad_x,
                    double a, double b) {
  check_same_shape(grad_out, x.shape(), "unary_backward", "grad_out");
  check_same_shape(y, x.shape(), "unary_backward", "y");
  check_same_shape(grad_x, x.shape(), "unary_backward", "grad_x");
  dispatch_floating(x.dtype(), kernels::unary_op_name(op), [&](auto zero) {
    using T = decltype(zero);
    const T* gp = grad_out.data_ptr<T>();
    const T* xp = x.data_ptr<T>();
    const T* yp = y.data_ptr<T>();
    T* gx = grad_x.data_ptr<T>();
    for_each_offset<4>(x.shape(), {grad_out.strides(), x.strides(), y.strides(), grad_x.strides()},
                       [&](const std::array<int64_t, 4>& o) {
                         gx[o[3]] = gp[o[0]] * unary_derivative(op, xp[o[1]], yp[o[2]], a, b);
                       });
  });
}

void binary_forward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  check_same_shape(a, out.shape(), "binary_forward", "a");
  check_same_shape(b, out.shape(), "binary_forward", "b");
  MASKDET_CHECK(a.dtype() == b.dtype(), kernels::binary_op_name(op), ": dtypes differ: ", dtype_name(a.dtype()),
                " and ", dtype_name(b.dtype()));
  const bool cmp = kernels::is_comparison(op);
  MASKDET_CHECK(out.dtype() == (cmp ? DType::UInt8 : a.dtype()), kernels::binary_op_name(op), ": out is ",
                dtype_name(out.dtype()));
  dispatch_all(a.dtype(), kernels::binary_op_name(op), [&](auto zero) {
    using T = decltype(zero);
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    const std::array<Shape, 3> strides{a.strides(), b.strides(), out.strides()};
    if (cmp) {
      uint8_t* op_ = out.data_ptr<uint8_t>();
      for_each_offset<3>(out.shape(), strides,
                         [&](const std::array<int64_t, 3>& o) { op_[o[2]] = compare(op, ap[o[0]], bp[o[1]]); });
    } else {
      T* op_ = out.data_ptr<T>();
      for_each_offset<3>(out.shape(), strides,
                         [&](const std::array<int64_t, 3>& o) { op_[o[2]] = binary_value(op, ap[o[0]], bp[o[1]]); });
    }
  });
}

void where_forward(const Tensor& mask, const Tensor& a, const Tensor& b, const Tensor& out) {
  check_same_shape(mask, out.shape(), "where", "mask");
  check_same_shape(a, out.shape(), "where", "a");
  check_same_shape(b, out.shape(), "where", "b");
  MASKDET_CHECK(mask.dtype() == DType::UInt8, "where: mask must be uint8, got ", dtype_name(mask.dtype()));
  MASKDET_CHECK(a.dtype() == b.dtype() && a.dtype() == out.dtype(), "where: dtypes differ: ", dtype_name(a.dtype()),
                ", ", dtype_name(b.dtype()), ", out ", dtype_name(out.dtype()));
  dispatch_all(a.dtype(), "where", [&](auto zero) {
    using T = decltype(zero);
    const uint8_t* mp = mask.data_ptr<uint8_t>();
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    T* op_ = out.data_ptr<T>();
    for_each_offset<4>(out.shape(), {mask.strides(), a.strides(), b.strides(), out.strides()},
                       [&](const std::array<int64_t, 4>& o) { op_[o[3]] = mp[o[0]] ? ap[o[1]] : bp[o[2]]; });
  });
}

}  // namespace cpu
}  // namespace maskdet
