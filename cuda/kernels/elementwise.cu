// CUDA elementwise kernels (tensor/kernels/elementwise.h): unary maths and derivatives,
// broadcasting binary ops and comparisons, where. The per-element formulas are the CPU's, from
// tensor/kernels/elementwise_math.h; operands walk their own strides through
// cuda/kernels/strided.cuh, so expanded (stride-0) and transposed views need no copy.
//
// Float results may differ from the CPU in the last bits: CUDA's expf/logf/powf are within a
// few ulp of glibc's, and nvcc contracts a*b+c into fused multiply-adds.
#include "cuda/kernels/strided.cuh"
#include "tensor/kernels/elementwise.h"
#include "tensor/kernels/elementwise_checks.h"
#include "tensor/kernels/elementwise_math.h"

namespace maskdet::cuda {
using kernels::BinaryOp;
using kernels::UnaryOp;
namespace math = kernels::elementwise_math;

namespace {

// Functors for launch_strided: one operand offset per pointer, in the order of the pointers.
template <class T>
struct UnaryForwardOp {
  UnaryOp op;
  const T* x;
  T* out;
  double a, b;
  __device__ void operator()(const int64_t (&off)[2]) const { out[off[1]] = math::unary_value(op, x[off[0]], a, b); }
};

template <class T>
struct UnaryBackwardOp {
  UnaryOp op;
  const T* grad_out;
  const T* x;
  const T* y;
  T* grad_x;
  double a, b;
  __device__ void operator()(const int64_t (&off)[4]) const {
    grad_x[off[3]] = math::unary_gradient(op, grad_out[off[0]], x[off[1]], y[off[2]], a, b);
  }
};

// Writes T for the arithmetic ops, uint8_t (0/1) for the comparisons. (A flag, not the output
// type, picks the formula: uint8 arithmetic also writes uint8.) out may be a or b: each element
// is read before it is written, by the same thread.
template <class T, bool Compare>
struct BinaryForwardOp {
  using Out = std::conditional_t<Compare, uint8_t, T>;
  BinaryOp op;
  const T* a;
  const T* b;
  Out* out;
  __device__ void operator()(const int64_t (&off)[3]) const {
    if constexpr (Compare) out[off[2]] = math::compare(op, a[off[0]], b[off[1]]);
    else out[off[2]] = math::binary_value(op, a[off[0]], b[off[1]]);
  }
};

template <class T>
struct WhereOp {
  const uint8_t* mask;
  const T* a;
  const T* b;
  T* out;
  __device__ void operator()(const int64_t (&off)[4]) const {
    out[off[3]] = mask[off[0]] ? a[off[1]] : b[off[2]];
  }
};

}  // namespace

// x, out: one shape and floating dtype, any strides. Overwrites out.
void unary_forward(UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) {
  kernels::check_unary_forward_args(x, out, Backend::Cuda);
  DeviceGuard guard(x.device().index);
  dispatch_floating(x.dtype(), kernels::unary_op_name(op), [&](auto zero) {
    using T = decltype(zero);
    launch_strided<2>(x.shape(), {&x.strides(), &out.strides()},
                      UnaryForwardOp<T>{op, x.data_ptr<T>(), out.data_ptr<T>(), a, b}, kernels::unary_op_name(op));
  });
}

// grad_out, x, y, grad_x: one shape and floating dtype, any strides. Overwrites grad_x.
void unary_backward(UnaryOp op, const Tensor& grad_out, const Tensor& x, const Tensor& y, const Tensor& grad_x,
                    double a, double b) {
  kernels::check_unary_backward_args(grad_out, x, y, grad_x, Backend::Cuda);
  DeviceGuard guard(x.device().index);
  dispatch_floating(x.dtype(), kernels::unary_op_name(op), [&](auto zero) {
    using T = decltype(zero);
    launch_strided<4>(x.shape(), {&grad_out.strides(), &x.strides(), &y.strides(), &grad_x.strides()},
                      UnaryBackwardOp<T>{op, grad_out.data_ptr<T>(), x.data_ptr<T>(), y.data_ptr<T>(),
                                         grad_x.data_ptr<T>(), a, b},
                      kernels::unary_op_name(op));
  });
}

// a, b: out's shape (stride-0 broadcast views allowed), one dtype. out: that dtype, or uint8
// for comparisons; may be a or b. Overwrites out.
void binary_forward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const char* name = kernels::binary_op_name(op);
  kernels::check_binary_forward_args(op, a, b, out, Backend::Cuda);
  const bool cmp = kernels::is_comparison(op);
  DeviceGuard guard(out.device().index);
  dispatch_all(a.dtype(), name, [&](auto zero) {
    using T = decltype(zero);
    // compare_tag: std::true_type for the comparisons (uint8 out), std::false_type otherwise.
    const auto launch = [&](auto compare_tag) {
      using Op = BinaryForwardOp<T, decltype(compare_tag)::value>;
      launch_strided<3>(out.shape(), {&a.strides(), &b.strides(), &out.strides()},
                        Op{op, a.data_ptr<T>(), b.data_ptr<T>(), out.data_ptr<typename Op::Out>()}, name);
    };
    if (cmp) launch(std::true_type{});
    else launch(std::false_type{});
  });
}

// mask: uint8; a, b, out: one dtype; all out's shape (stride-0 views allowed). Overwrites out.
void where_forward(const Tensor& mask, const Tensor& a, const Tensor& b, const Tensor& out) {
  kernels::check_where_forward_args(mask, a, b, out, Backend::Cuda);
  DeviceGuard guard(out.device().index);
  dispatch_all(a.dtype(), "where", [&](auto zero) {
    using T = decltype(zero);
    launch_strided<4>(out.shape(), {&mask.strides(), &a.strides(), &b.strides(), &out.strides()},
                      WhereOp<T>{mask.data_ptr<uint8_t>(), a.data_ptr<T>(), b.data_ptr<T>(), out.data_ptr<T>()},
                      "where");
  });
}

}  // namespace maskdet::cuda
