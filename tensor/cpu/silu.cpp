// CPU SiLU kernels (tensor/kernels/silu.h), following the shape of the unary kernels in
// tensor/cpu/elementwise.cpp: check operands, pick the C++ type, walk the elements with
// for_each_offset, which takes a flat parallel loop when every operand is dense and an odometer
// over the strides otherwise (views such as transposes and slices need no copy).
#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/silu.h"
#include "tensor/kernels/silu_checks.h"
#include "tensor/kernels/silu_math.h"

namespace maskdet::cpu {

// x: any shape; out: x's shape and dtype.
void silu_forward(const Tensor& x, const Tensor& out) {
  kernels::check_silu_forward_args(x, out, Backend::Cpu);
  dispatch_floating(x.dtype(), "silu", [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    T* outp = out.data_ptr<T>();
    for_each_offset<2>(x.shape(), {x.strides(), out.strides()}, [&](const std::array<int64_t, 2>& o) {
      outp[o[1]] = kernels::silu_math::value(xp[o[0]]);
    });
  });
}

// grad_out, x, grad_x: one shape and dtype.
void silu_backward(const Tensor& grad_out, const Tensor& x, const Tensor& grad_x) {
  kernels::check_silu_backward_args(grad_out, x, grad_x, Backend::Cpu);
  dispatch_floating(x.dtype(), "silu_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* gp = grad_out.data_ptr<T>();
    const T* xp = x.data_ptr<T>();
    T* gxp = grad_x.data_ptr<T>();
    for_each_offset<3>(x.shape(), {grad_out.strides(), x.strides(), grad_x.strides()},
                       [&](const std::array<int64_t, 3>& o) {
                         gxp[o[2]] = gp[o[0]] * kernels::silu_math::derivative(xp[o[1]]);
                       });
  });
}

}  // namespace maskdet::cpu
