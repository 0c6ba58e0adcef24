// CPU copy (with dtype conversion) and fill.
#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/copy.h"
#include "tensor/kernels/copy_checks.h"

namespace maskdet::cpu {

void copy(const Tensor& src, const Tensor& dst) {
  kernels::check_copy_args(src, dst, Backend::Cpu);
  dispatch_all(src.dtype(), "copy", [&](auto zs) {
    using S = decltype(zs);
    dispatch_all(dst.dtype(), "copy", [&](auto zd) {
      using D = decltype(zd);
      const S* sp = src.data_ptr<S>();
      D* dp = dst.data_ptr<D>();
      for_each_offset<2>(dst.shape(), {src.strides(), dst.strides()},
                         [&](const std::array<int64_t, 2>& o) { dp[o[1]] = static_cast<D>(sp[o[0]]); });
    });
  });
}

void fill(const Tensor& out, double value) {
  kernels::check_fill_args(out, Backend::Cpu);
  dispatch_all(out.dtype(), "fill", [&](auto zero) {
    using T = decltype(zero);
    T* p = out.data_ptr<T>();
    const T v = static_cast<T>(value);
    for_each_offset<1>(out.shape(), {out.strides()}, [&](const std::array<int64_t, 1>& o) { p[o[0]] = v; });
  });
}

}  // namespace maskdet::cpu
