// CUDA copy (any strides, any dtype pair, converted with static_cast as cpu::copy does) and fill
// (tensor/kernels/copy.h), on the strided launcher of cuda/kernels/strided.cuh.
#include "cuda/kernels/strided.cuh"
#include "tensor/kernels/copy.h"
#include "tensor/kernels/copy_checks.h"

namespace maskdet::cuda {
namespace {

template <class S, class D>
struct CopyOp {
  const S* src;
  D* dst;
  __device__ void operator()(const int64_t (&off)[2]) const { dst[off[1]] = static_cast<D>(src[off[0]]); }
};

template <class T>
struct FillOp {
  T* out;
  T value;
  __device__ void operator()(const int64_t (&off)[1]) const { out[off[0]] = value; }
};

}  // namespace

// src, dst: one shape, on one GPU; any strides and dtypes. Overwrites dst.
void copy(const Tensor& src, const Tensor& dst) {
  kernels::check_copy_args(src, dst, Backend::Cuda);
  if (dst.numel() == 0) return;
  DeviceGuard guard(dst.device().index);
  dispatch_all(src.dtype(), "copy", [&](auto zs) {
    using S = decltype(zs);
    dispatch_all(dst.dtype(), "copy", [&](auto zd) {
      using D = decltype(zd);
      launch_strided<2>(dst.shape(), {&src.strides(), &dst.strides()}, CopyOp<S, D>{src.data_ptr<S>(), dst.data_ptr<D>()},
                        "copy");
    });
  });
}

// out: any shape and strides. Overwrites out with value converted to out's dtype.
void fill(const Tensor& out, double value) {
  kernels::check_fill_args(out, Backend::Cuda);
  if (out.numel() == 0) return;
  DeviceGuard guard(out.device().index);
  dispatch_all(out.dtype(), "fill", [&](auto zero) {
    using T = decltype(zero);
    launch_strided<1>(out.shape(), {&out.strides()}, FillOp<T>{out.data_ptr<T>(), static_cast<T>(value)}, "fill");
  });
}

}  // namespace maskdet::cuda
