// CUDA nearest-neighbour 2-D upsampling (tensor/kernels/upsample.h), following
// tensor/cpu/upsample.cpp. The source-index rule is nearest_source_index's (PyTorch's), with
// the float32 ratio computed on the host exactly as there and handed to the kernels, and the
// device's float multiply and floorf rounding as the host's do (IEEE round-to-nearest, nothing
// to fuse), so both backends pick the same source pixel for every output, odd sizes included.
//
// The backward gathers instead of scattering: the outputs that copy an input row form a
// contiguous run (the source index never decreases along an axis), found by binary search, so
// each input pixel sums its block of grad_out itself, row by row as the CPU adds them: no
// atomics, and the same sums in the same order as the CPU, bit for bit.
#include "cuda/kernels/nn_common.cuh"
#include "tensor/kernels/upsample.h"
#include "tensor/kernels/upsample_checks.h"

namespace maskdet::cuda {

namespace {

// One axis of the mapping: `in` source positions stretched to `out`.
struct Axis {
  int64_t in, out;
  float src_per_dst;  // used only off the equal-size and exact-doubling paths
};

Axis make_axis(int64_t in, int64_t out, double scale) {
  // The ratio exactly as nearest_source_index computes it, in float32.
  const float ratio = scale > 0 ? static_cast<float>(1.0 / scale) : static_cast<float>(in) / static_cast<float>(out);
  return {in, out, ratio};
}

// nearest_source_index (tensor/kernels/upsample.h) on the device.
__device__ int64_t source_index(int64_t dst, const Axis& a) {
  if (a.out == a.in) return dst;
  if (a.out == 2 * a.in) return dst >> 1;
  const int64_t src = static_cast<int64_t>(floorf(static_cast<float>(dst) * a.src_per_dst));
  return src < a.in - 1 ? src : a.in - 1;
}

// The first output position whose source is >= src (out when none).
__device__ int64_t first_output_at_or_after(int64_t src, const Axis& a) {
  int64_t lo = 0, hi = a.out;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (source_index(mid, a) < src) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

template <class T>
__global__ void upsample_forward_kernel(const T* __restrict__ x,  // (N, C, H, W)
                                        T* __restrict__ out,      // (N, C, OH, OW)
                                        int64_t total, Axis rows, Axis cols) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += step) {
    const int64_t j = o % cols.out, i = (o / cols.out) % rows.out, plane = o / (cols.out * rows.out);
    out[o] = x[(plane * rows.in + source_index(i, rows)) * cols.in + source_index(j, cols)];
  }
}

template <class T>
__global__ void upsample_backward_kernel(const T* __restrict__ grad_out,  // (N, C, OH, OW)
                                         T* __restrict__ grad_x,          // (N, C, H, W)
                                         int64_t total, Axis rows, Axis cols) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < total; p += step) {
    const int64_t w = p % cols.in, h = (p / cols.in) % rows.in, plane = p / (cols.in * rows.in);
    const int64_t i_begin = first_output_at_or_after(h, rows), i_end = first_output_at_or_after(h + 1, rows);
    const int64_t j_begin = first_output_at_or_after(w, cols), j_end = first_output_at_or_after(w + 1, cols);
    T sum = 0;
    for (int64_t i = i_begin; i < i_end; ++i) {
      const T* row = grad_out + (plane * rows.out + i) * cols.out;
      for (int64_t j = j_begin; j < j_end; ++j) sum += row[j];
    }
    grad_x[p] = sum;
  }
}

}  // namespace

// x: (N, C, H, W); out: (N, C, OH, OW); contiguous, one GPU. scale_h, scale_w: the scale factors
// the caller asked for, or 0 when it gave the output size. Overwrites out.
void upsample_nearest2d_forward(const Tensor& x, const Tensor& out, double scale_h, double scale_w) {
  constexpr const char* kernel = "upsample_nearest2d_forward";
  kernels::check_upsample_nearest2d_args(x, out, kernel, Backend::Cuda);
  dispatch_floating(x.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const int64_t total = out.numel();
    if (total == 0) return;
    DeviceGuard guard(x.device().index);
    upsample_forward_kernel<T><<<blocks_for(total), kThreadsPerBlock, 0, current_stream()>>>(
        x.data_ptr<T>(), out.data_ptr<T>(), total, make_axis(x.size(2), out.size(2), scale_h),
        make_axis(x.size(3), out.size(3), scale_w));
    CUDA_CHECK_LAUNCH();
  });
}

// grad_out: (N, C, OH, OW); grad_x: (N, C, H, W); contiguous, one GPU. Overwrites grad_x.
void upsample_nearest2d_backward(const Tensor& grad_out, const Tensor& grad_x, double scale_h, double scale_w) {
  constexpr const char* kernel = "upsample_nearest2d_backward";
  kernels::check_upsample_nearest2d_args(grad_x, grad_out, kernel, Backend::Cuda);
  dispatch_floating(grad_out.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const int64_t total = grad_x.numel();
    if (total == 0) return;
    DeviceGuard guard(grad_x.device().index);
    upsample_backward_kernel<T><<<blocks_for(total), kThreadsPerBlock, 0, current_stream()>>>(
        grad_out.data_ptr<T>(), grad_x.data_ptr<T>(), total, make_axis(grad_x.size(2), grad_out.size(2), scale_h),
        make_axis(grad_x.size(3), grad_out.size(3), scale_w));
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace maskdet::cuda
