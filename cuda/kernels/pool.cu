// CUDA 2-D max pooling (tensor/kernels/pool.h), following tensor/cpu/pool.cpp. The forward gives
// each output one thread that scans its window in the CPU's order, so values and argmax
// indices (first maximum on ties, a NaN wins) equal the CPU's exactly.
//
// The backward has only grad_out, the indices and grad_x (no window geometry), so an input
// pixel cannot find the outputs that chose it; each output adds its gradient at its index with
// atomicAdd instead (float atomics; double atomicAdd needs sm_60, below every architecture we
// build). A pixel gets one add per window that picked it: with two or fewer the result does not
// depend on their order (0 + a + b == 0 + b + a), with more (ResNet's 3x3 / stride 2 pool: up to
// four) the order can change the last bits from run to run. Tests allow 1e-6 relative (float32).
#include "cuda/kernels/nn_common.cuh"
#include "tensor/kernels/pool.h"
#include "tensor/kernels/pool_checks.h"

namespace maskdet::cuda {

namespace {

template <class T>
__device__ bool is_nan(T v) {
  return v != v;
}

template <class T>
__device__ T negative_infinity();
template <>
__device__ float negative_infinity<float>() {
  return -__int_as_float(0x7f800000);
}
template <>
__device__ double negative_infinity<double>() {
  return -__longlong_as_double(0x7ff0000000000000LL);
}

template <class T>
__global__ void max_pool2d_forward_kernel(const T* __restrict__ x,        // (N, C, H, W)
                                          T* __restrict__ out,            // (N, C, OH, OW)
                                          int64_t* __restrict__ indices,  // (N, C, OH, OW)
                                          int64_t total, int64_t height, int64_t width, int64_t out_h,
                                          int64_t out_w, Pool2dWindow window) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += step) {
    const int64_t ow = o % out_w, oh = (o / out_w) % out_h, plane = o / (out_w * out_h);
    const T* xp = x + plane * height * width;
    // Clipping the window to the input is the same as padding with -inf.
    const int64_t h_begin = max(oh * window.stride_h - window.pad_h, int64_t{0});
    const int64_t h_end = min(oh * window.stride_h - window.pad_h + window.kernel_h, height);
    const int64_t w_begin = max(ow * window.stride_w - window.pad_w, int64_t{0});
    const int64_t w_end = min(ow * window.stride_w - window.pad_w + window.kernel_w, width);
    T best = negative_infinity<T>();
    int64_t best_index = h_begin * width + w_begin;
    for (int64_t h = h_begin; h < h_end; ++h) {
      for (int64_t w = w_begin; w < w_end; ++w) {
        const T v = xp[h * width + w];
        if (v > best || (is_nan(v) && !is_nan(best))) {
          best = v;
          best_index = h * width + w;
        }
      }
    }
    out[o] = best;
    indices[o] = best_index;
  }
}

template <class T>
__global__ void max_pool2d_backward_kernel(const T* __restrict__ grad_out,       // (N, C, OH, OW)
                                           const int64_t* __restrict__ indices,  // (N, C, OH, OW)
                                           T* __restrict__ grad_x,               // (N, C, H, W), zeroed
                                           int64_t total, int64_t out_plane, int64_t in_plane) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += step) {
    const int64_t index = indices[o];
    // The forward never writes an index outside the plane; a corrupt one is dropped rather than
    // written out of bounds.
    if (index < 0 || index >= in_plane) continue;
    atomicAdd(grad_x + (o / out_plane) * in_plane + index, grad_out[o]);
  }
}

}  // namespace

// x: (N, C, H, W); out, indices (int64): (N, C, OH, OW). Contiguous, one GPU. Overwrites out and indices.
void max_pool2d_forward(const Tensor& x, const Tensor& out, const Tensor& indices, const Pool2dWindow& window) {
  constexpr const char* kernel = "max_pool2d_forward";
  kernels::check_max_pool2d_forward_args(x, out, indices, window, Backend::Cuda);
  const int64_t height = x.size(2), width = x.size(3), out_h = out.size(2), out_w = out.size(3);
  dispatch_floating(x.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const int64_t total = out.numel();
    if (total == 0) return;
    DeviceGuard guard(x.device().index);
    max_pool2d_forward_kernel<T><<<blocks_for(total), kThreadsPerBlock, 0, current_stream()>>>(
        x.data_ptr<T>(), out.data_ptr<T>(), indices.data_ptr<int64_t>(), total, height, width, out_h, out_w, window);
    CUDA_CHECK_LAUNCH();
  });
}

// grad_out, indices (int64): (N, C, OH, OW); grad_x: (N, C, H, W). Contiguous, one GPU.
// Overwrites grad_x (zeroed first).
void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_x) {
  constexpr const char* kernel = "max_pool2d_backward";
  kernels::check_max_pool2d_backward_args(grad_out, indices, grad_x, Backend::Cuda);
  const int64_t in_plane = grad_x.size(2) * grad_x.size(3), out_plane = grad_out.size(2) * grad_out.size(3);
  dispatch_floating(grad_out.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    if (grad_x.numel() == 0) return;
    DeviceGuard guard(grad_x.device().index);
    zero_fill(grad_x);
    const int64_t total = grad_out.numel();
    if (total == 0) return;
    max_pool2d_backward_kernel<T><<<blocks_for(total), kThreadsPerBlock, 0, current_stream()>>>(
        grad_out.data_ptr<T>(), indices.data_ptr<int64_t>(), grad_x.data_ptr<T>(), total, out_plane, in_plane);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace maskdet::cuda
