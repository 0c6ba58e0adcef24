// CPU elementwise kernels: unary maths and derivatives, broadcasting binary ops, where.
#include <initializer_list>
#include <type_traits>

#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/elementwise.h"
#include "tensor/kernels/elementwise_checks.h"
#include "tensor/kernels/elementwise_math.h"

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

namespace math = kernels::elementwise_math;

namespace {

// Calls f(std::integral_constant<Enum, V>{}) for the V among Values that equals value, so the
// element loop inside f sees its op as a constant: the per-element switch folds away and the
// dense loop vectorises (with the op a run-time value, a clamp ran at a fifth of memory speed).
template <class Enum, Enum... Values, class F>
void with_constant(Enum value, const F& f) {
  const bool found = ((value == Values ? (f(std::integral_constant<Enum, Values>{}), true) : false) || ...);
  MASKDET_CHECK(found, "elementwise: unknown op ", static_cast<int>(value));
}

template <class F>
void with_unary_op(UnaryOp op, const F& f) {
  with_constant<UnaryOp, UnaryOp::Neg, UnaryOp::Exp, UnaryOp::Log, UnaryOp::Sigmoid, UnaryOp::Relu, UnaryOp::Abs,
                UnaryOp::Clamp, UnaryOp::Pow, UnaryOp::Sqrt, UnaryOp::Sign>(op, f);
}

template <class F>
void with_arithmetic_op(BinaryOp op, const F& f) {
  with_constant<BinaryOp, BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Maximum,
                BinaryOp::Minimum>(op, f);
}

// Every operand dense and of the output's shape (no broadcasting): the kernels then run a plain
// index loop, which GCC vectorises where the generic offset loop stayed scalar (ReLU's backward
// kept a branch per element and ran at a seventh of memory speed).
bool dense_same_layout(const Shape& shape, std::initializer_list<const Tensor*> operands) {
  for (const Tensor* t : operands)
    if (t->shape() != shape || !t->is_contiguous()) return false;
  return true;
}

constexpr int64_t kElementwiseGrain = 16384;

}  // namespace

void unary_forward(UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) {
  kernels::check_unary_forward_args(x, out, Backend::Cpu);
  dispatch_floating(x.dtype(), kernels::unary_op_name(op), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    T* op_ = out.data_ptr<T>();
    with_unary_op(op, [&](auto constant) {
      if (dense_same_layout(out.shape(), {&x, &out})) {
        parallel_for(out.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) op_[i] = math::unary_value<decltype(constant)::value>(xp[i], a, b);
        });
        return;
      }
      for_each_offset<2>(x.shape(), {x.strides(), out.strides()}, [&](const std::array<int64_t, 2>& o) {
        op_[o[1]] = math::unary_value<decltype(constant)::value>(xp[o[0]], a, b);
      });
    });
  });
}

void unary_backward(UnaryOp op, const Tensor& grad_out, const Tensor& x, const Tensor& y, const Tensor& grad_x,
                    double a, double b) {
  kernels::check_unary_backward_args(grad_out, x, y, grad_x, Backend::Cpu);
  dispatch_floating(x.dtype(), kernels::unary_op_name(op), [&](auto zero) {
    using T = decltype(zero);
    const T* gp = grad_out.data_ptr<T>();
    const T* xp = x.data_ptr<T>();
    const T* yp = y.data_ptr<T>();
    T* gx = grad_x.data_ptr<T>();
    with_unary_op(op, [&](auto constant) {
      if (dense_same_layout(grad_x.shape(), {&grad_out, &x, &y, &grad_x})) {
        parallel_for(grad_x.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i)
            gx[i] = math::unary_gradient<decltype(constant)::value>(gp[i], xp[i], yp[i], a, b);
        });
        return;
      }
      for_each_offset<4>(x.shape(), {grad_out.strides(), x.strides(), y.strides(), grad_x.strides()},
                         [&](const std::array<int64_t, 4>& o) {
                           gx[o[3]] = math::unary_gradient<decltype(constant)::value>(gp[o[0]], xp[o[1]], yp[o[2]], a, b);
                         });
    });
  });
}

void binary_forward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  kernels::check_binary_forward_args(op, a, b, out, Backend::Cpu);
  const bool cmp = kernels::is_comparison(op);
  dispatch_all(a.dtype(), kernels::binary_op_name(op), [&](auto zero) {
    using T = decltype(zero);
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    const std::array<Shape, 3> strides{a.strides(), b.strides(), out.strides()};
    if (cmp) {
      uint8_t* op_ = out.data_ptr<uint8_t>();
      for_each_offset<3>(out.shape(), strides,
                         [&](const std::array<int64_t, 3>& o) { op_[o[2]] = math::compare(op, ap[o[0]], bp[o[1]]); });
    } else {
      T* op_ = out.data_ptr<T>();
      with_arithmetic_op(op, [&](auto constant) {
        if (dense_same_layout(out.shape(), {&a, &b, &out})) {
          parallel_for(out.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) op_[i] = math::binary_value<decltype(constant)::value>(ap[i], bp[i]);
          });
          return;
        }
        for_each_offset<3>(out.shape(), strides, [&](const std::array<int64_t, 3>& o) {
          op_[o[2]] = math::binary_value<decltype(constant)::value>(ap[o[0]], bp[o[1]]);
        });
      });
    }
  });
}

void where_forward(const Tensor& mask, const Tensor& a, const Tensor& b, const Tensor& out) {
  kernels::check_where_forward_args(mask, a, b, out, Backend::Cpu);
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
