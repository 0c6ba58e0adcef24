// What the CUDA kernels share: a block-wide tree reduction, and a strided elementwise launcher,
// the GPU counterpart of tensor/cpu/strided_loop.h. Each thread turns a linear element index
// into one element offset per operand (row-major odometer, strides in elements, 0 for broadcast
// dims) in a grid-stride loop (NVIDIA, "CUDA Pro Tip: Write Flexible Kernels with Grid-Stride
// Loops"); when every operand is dense the offsets are the index itself. Included by .cu files
// only.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>

#include "cuda/context.h"
#include "tensor/kernels/kernel_checks.h"
#include "tensor/tensor.h"

namespace maskdet::cuda {

// Most dims a kernel walks after collapsing (size-1 dims dropped, dims that are contiguous with
// their inner neighbour in every operand merged), so real tensors rarely come near it.
constexpr int kMaxDims = 8;

// The kernels' checks (tensor/kernels/<family>_checks.h) run here with Backend::Cuda.
using kernels::Backend;

// ---- block reduction ----

// Combines values[0 .. kThreadsPerBlock) into values[0] by a fixed pairwise tree (Harris,
// "Optimizing Parallel Reduction in CUDA", NVIDIA 2007), so the result depends on the inputs
// only, never on timing. Every thread of the block must call it, each having written its own
// values[threadIdx.x]; blockDim.x must be kThreadsPerBlock. combine(x, y) is a functor.
template <class T, class Combine>
__device__ void block_tree_reduce(T* values, const Combine& combine) {
  __syncthreads();
  for (int s = kThreadsPerBlock / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s) values[threadIdx.x] = combine(values[threadIdx.x], values[threadIdx.x + s]);
    __syncthreads();
  }
}

template <class T>
struct AddOp {
  __device__ T operator()(T x, T y) const { return x + y; }
};

// ---- strided offsets ----

template <int N>
struct StridedOffsets {
  int ndim = 0;
  bool dense = false;  // every operand walks memory in order: offset == linear index
  int64_t size[kMaxDims] = {};
  int64_t stride[N][kMaxDims] = {};

  __device__ void at(int64_t linear, int64_t (&off)[N]) const {
    if (dense) {
      for (int k = 0; k < N; ++k) off[k] = linear;
      return;
    }
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t i = linear % size[d];
      linear /= size[d];
      for (int k = 0; k < N; ++k) off[k] += i * stride[k][d];
    }
  }
};

// Collapses shape and the operands' strides into a StridedOffsets. `kernel` names the caller
// in the error when more than kMaxDims dims remain.
template <int N>
StridedOffsets<N> make_strided_offsets(const Shape& shape, const std::array<const Shape*, N>& strides,
                                       const char* kernel) {
  // Built innermost first: a dim merges into the one inside it when, for every operand,
  // stepping it once equals stepping the inner one size-times.
  int64_t sizes[kMaxDims];
  int64_t st[N][kMaxDims];
  int n = 0;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    bool merge = n > 0;
    for (int k = 0; k < N && merge; ++k) merge = (*strides[k])[d] == sizes[n - 1] * st[k][n - 1];
    if (merge) {
      sizes[n - 1] *= shape[d];
      continue;
    }
    MASKDET_CHECK(n < kMaxDims, kernel, ": shape ", shape_str(shape), " has more than ", kMaxDims,
                  " dims after merging contiguous ones; the CUDA kernels walk at most ", kMaxDims);
    sizes[n] = shape[d];
    for (int k = 0; k < N; ++k) st[k][n] = (*strides[k])[d];
    ++n;
  }
  StridedOffsets<N> o;
  o.ndim = n;
  for (int i = 0; i < n; ++i) {  // back to outermost first
    o.size[i] = sizes[n - 1 - i];
    for (int k = 0; k < N; ++k) o.stride[k][i] = st[k][n - 1 - i];
  }
  o.dense = n == 0 || (n == 1 && [&] {
              for (int k = 0; k < N; ++k)
                if (o.stride[k][0] != 1) return false;
              return true;
            }());
  return o;
}

template <int N, class Op>
__global__ void strided_elementwise_kernel(int64_t n, StridedOffsets<N> offsets, Op op) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[N];
    offsets.at(i, off);
    op(off);
  }
}

// Runs op(off) for every element of shape, off[k] being operand k's element offset. Op is a
// functor with `__device__ void operator()(const int64_t (&off)[N]) const` holding the
// operands' (already offset) data pointers. Launches nothing for an empty shape.
template <int N, class Op>
void launch_strided(const Shape& shape, const std::array<const Shape*, N>& strides, const Op& op,
                    const char* kernel) {
  const int64_t n = shape_numel(shape);
  if (n == 0) return;
  const StridedOffsets<N> offsets = make_strided_offsets<N>(shape, strides, kernel);
  strided_elementwise_kernel<N, Op><<<blocks_for(n), kThreadsPerBlock, 0, current_stream()>>>(n, offsets, op);
  CUDA_CHECK_LAUNCH();
}

}  // namespace maskdet::cuda
