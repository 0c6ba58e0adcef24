// CUDA reductions (tensor/kernels/reduce.h): sum over any dims, max over one dim, with the
// CPU kernels' checks (tensor/kernels/reduce_checks.h) and results (tensor/cpu/reduce.cpp).
//
// Deterministic: which element each thread adds, the shared-memory tree that combines a block
// (block_tree_reduce, cuda/kernels/strided.cuh) and the order in which chunk partials are added
// all depend on the shapes only, never on timing; no atomics. Float sums accumulate in double as on the CPU but in a different order when a
// reduction is long (> kSerialLimit elements), so they may differ from the CPU in the last bits
// of the result after rounding to float32 (and in the last bits of a float64 sum). Short
// reductions are added one by one in index order, exactly as the CPU does. max is exact.
#include <cmath>

#include "cuda/kernels/strided.cuh"
#include "tensor/kernels/reduce.h"
#include "tensor/kernels/reduce_checks.h"
#include "tensor/kernels/reduce_layout.h"

namespace maskdet::cuda {
namespace {
using kernels::reduce_layout::ReduceLayout;
using kernels::reduce_layout::split_dims;

// Reductions up to this long run one thread per output, serially in index order.
constexpr int64_t kSerialLimit = 64;
// Longer sums are cut into chunks of this many elements, one block each; the chunk count of
// an output depends only on its length.
constexpr int64_t kSumChunk = 16384;

template <class T>
using AccOf = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

__device__ inline int64_t offset_of(const StridedOffsets<1>& o, int64_t i) {
  int64_t off[1];
  o.at(i, off);
  return off[0];
}

// out: (n_out,). One thread per output, adding its n_red elements in index order.
template <class T>
__global__ void sum_serial_kernel(int64_t n_out, int64_t n_red, StridedOffsets<1> kept, StridedOffsets<1> red,
                                  const T* x, T* out) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < n_out; o += step) {
    const int64_t base = offset_of(kept, o);
    AccOf<T> acc = 0;
    for (int64_t r = 0; r < n_red; ++r) acc += static_cast<AccOf<T>>(x[base + offset_of(red, r)]);
    out[o] = static_cast<T>(acc);
  }
}

// One block per (output, chunk) task, task = o * chunks + c: each thread adds every
// blockDim-th element of the chunk, then block_tree_reduce adds the threads' sums.
// With one chunk the block writes out[o]; otherwise partial[task], summed by sum_chunks_kernel.
// partial: (n_out * chunks,) or null; out: (n_out,). blockDim.x must be kThreadsPerBlock.
template <class T>
__global__ void sum_chunked_kernel(int64_t n_out, int64_t n_red, int64_t chunks, StridedOffsets<1> kept,
                                   StridedOffsets<1> red, const T* x, AccOf<T>* partial, T* out) {
  __shared__ AccOf<T> sums[kThreadsPerBlock];
  const int tid = threadIdx.x;
  for (int64_t task = blockIdx.x; task < n_out * chunks; task += gridDim.x) {
    const int64_t o = task / chunks, c = task % chunks;
    const int64_t base = offset_of(kept, o);
    const int64_t end = min(n_red, (c + 1) * kSumChunk);
    AccOf<T> acc = 0;
    for (int64_t r = c * kSumChunk + tid; r < end; r += blockDim.x)
      acc += static_cast<AccOf<T>>(x[base + offset_of(red, r)]);
    sums[tid] = acc;
    block_tree_reduce(sums, AddOp<AccOf<T>>{});
    if (tid == 0) {
      if (chunks == 1) out[o] = static_cast<T>(sums[0]);
      else partial[task] = sums[0];
    }
    __syncthreads();  // sums[0] is read before the next task overwrites it
  }
}

// partial: (n_out, chunks); out: (n_out,). One thread per output, chunks added in order.
template <class T>
__global__ void sum_chunks_kernel(int64_t n_out, int64_t chunks, const AccOf<T>* partial, T* out) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < n_out; o += step) {
    AccOf<T> acc = 0;
    for (int64_t c = 0; c < chunks; ++c) acc += partial[o * chunks + c];
    out[o] = static_cast<T>(acc);
  }
}

template <class T>
__device__ inline bool is_nan(T v) {
  return v != v;  // false for the integer dtypes
}

// The CPU's serial rule, as an order-free one: a NaN beats any number, a larger value a smaller
// one, and between equals (or two NaNs) the lower index wins. That picks the first NaN, else the
// first maximum, whatever order the candidates meet in.
template <class T>
__device__ inline bool max_beats(T v, int64_t i, T best, int64_t best_i) {
  const bool vn = is_nan(v), bn = is_nan(best);
  if (vn != bn) return vn;
  if (!vn && v != best) return v > best;
  return i < best_i;
}

// values, indices: (n_out,). One thread per output, the CPU loop itself.
template <class T>
__global__ void max_serial_kernel(int64_t n_out, int64_t len, int64_t stride, StridedOffsets<1> kept, const T* x,
                                  T* values, int64_t* indices) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < n_out; o += step) {
    const int64_t base = offset_of(kept, o);
    T best = x[base];
    int64_t best_i = 0;
    for (int64_t i = 1; i < len; ++i) {
      const T v = x[base + i * stride];
      if (v > best || (is_nan(v) && !is_nan(best))) {
        best = v;
        best_i = i;
      }
    }
    values[o] = best;
    indices[o] = best_i;
  }
}

// values, indices: (n_out,). One block per output: each thread keeps the winner of its
// elements, then a shared-memory tree keeps the winner of winners (max_beats).
template <class T>
__global__ void max_block_kernel(int64_t n_out, int64_t len, int64_t stride, StridedOffsets<1> kept, const T* x,
                                 T* values, int64_t* indices) {
  __shared__ T best_v[kThreadsPerBlock];
  __shared__ int64_t best_i[kThreadsPerBlock];
  const int tid = threadIdx.x;
  for (int64_t o = blockIdx.x; o < n_out; o += gridDim.x) {
    const int64_t base = offset_of(kept, o);
    // len > kThreadsPerBlock on this path, so every thread starts from a real element.
    T v = x[base + tid * stride];
    int64_t vi = tid;
    for (int64_t i = tid + blockDim.x; i < len; i += blockDim.x) {
      const T c = x[base + i * stride];
      if (max_beats(c, i, v, vi)) {
        v = c;
        vi = i;
      }
    }
    best_v[tid] = v;
    best_i[tid] = vi;
    __syncthreads();
    for (int s = kThreadsPerBlock / 2; s > 0; s >>= 1) {
      if (tid < s && max_beats(best_v[tid + s], best_i[tid + s], best_v[tid], best_i[tid])) {
        best_v[tid] = best_v[tid + s];
        best_i[tid] = best_i[tid + s];
      }
      __syncthreads();
    }
    if (tid == 0) {
      values[o] = best_v[0];
      indices[o] = best_i[0];
    }
    __syncthreads();
  }
}

unsigned task_blocks(int64_t tasks) {
  return static_cast<unsigned>(std::min<int64_t>(tasks, 65535 * 8));
}

}  // namespace

// x: any shape and strides. dims: sorted, unique, in range. out: x's shape with the reduced
// dims of size 1, x's dtype, contiguous. Overwrites out.
void sum_forward(const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out) {
  kernels::check_sum_forward_args(x, dims, out, Backend::Cuda);
  const ReduceLayout l = split_dims(x, dims);
  const int64_t n_out = shape_numel(l.kept_shape);
  const int64_t n_red = shape_numel(l.red_shape);
  if (n_out == 0) return;
  DeviceGuard guard(x.device().index);
  const StridedOffsets<1> kept = make_strided_offsets<1>(l.kept_shape, {&l.kept_strides}, "sum");
  const StridedOffsets<1> red = make_strided_offsets<1>(l.red_shape, {&l.red_strides}, "sum");
  const cudaStream_t stream = current_stream();
  dispatch_all(x.dtype(), "sum", [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    if (n_red <= kSerialLimit) {
      sum_serial_kernel<T><<<blocks_for(n_out), kThreadsPerBlock, 0, stream>>>(n_out, n_red, kept, red, xp, op);
      CUDA_CHECK_LAUNCH();
      return;
    }
    const int64_t chunks = (n_red + kSumChunk - 1) / kSumChunk;
    AccOf<T>* partial = nullptr;
    if (chunks > 1) partial = static_cast<AccOf<T>*>(workspace(n_out * chunks * sizeof(AccOf<T>)));
    sum_chunked_kernel<T><<<task_blocks(n_out * chunks), kThreadsPerBlock, 0, stream>>>(n_out, n_red, chunks, kept, red,
                                                                                          xp, partial, op);
    CUDA_CHECK_LAUNCH();
    if (chunks > 1) {
      sum_chunks_kernel<T><<<blocks_for(n_out), kThreadsPerBlock, 0, stream>>>(n_out, chunks, partial, op);
      CUDA_CHECK_LAUNCH();
    }
  });
}

// x: any shape and strides, x.size(dim) > 0. values: x's shape with dim of size 1, x's dtype,
// contiguous; indices: the same shape, int64, contiguous. Overwrites both.
void max_forward(const Tensor& x, int64_t dim, const Tensor& values, const Tensor& indices) {
  kernels::check_max_forward_args(x, dim, values, indices, Backend::Cuda);
  const ReduceLayout l = split_dims(x, {dim});
  const int64_t n_out = shape_numel(l.kept_shape);
  const int64_t len = x.size(dim), stride = x.strides()[dim];
  if (n_out == 0) return;
  DeviceGuard guard(x.device().index);
  const StridedOffsets<1> kept = make_strided_offsets<1>(l.kept_shape, {&l.kept_strides}, "max");
  const cudaStream_t stream = current_stream();
  dispatch_all(x.dtype(), "max", [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    T* vp = values.data_ptr<T>();
    int64_t* ip = indices.data_ptr<int64_t>();
    if (len <= kThreadsPerBlock)
      max_serial_kernel<T><<<blocks_for(n_out), kThreadsPerBlock, 0, stream>>>(n_out, len, stride, kept, xp, vp, ip);
    else
      max_block_kernel<T><<<task_blocks(n_out), kThreadsPerBlock, 0, stream>>>(n_out, len, stride, kept, xp, vp, ip);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace maskdet::cuda
