// What the CUDA layer kernels (conv2d, batch_norm, group_norm, pool, upsample, index) share:
// zero-filling on the stream, the data pointer of an optional operand, a grid size for
// one-block-per-item kernels, and a deterministic block-wide double sum (a warp shuffle tree,
// then the warps' partials in order: NVIDIA's "Faster Parallel Reductions on Kepler" pattern).
// Their argument checks are the CPU kernels' (tensor/kernels/<family>_checks.h). Included by .cu
// files only.
#pragma once
#include <algorithm>
#include <cstdint>

#include "cuda/context.h"
#include "cuda/kernels/strided.cuh"
#include "tensor/tensor.h"

namespace maskdet::cuda {

// All bits zero is 0 for every dtype maskdet has. Queued on the current stream; an undefined or
// empty tensor is left alone.
inline void zero_fill(const Tensor& t) {
  if (t.defined() && t.numel() > 0)
    CUDA_CHECK(cudaMemsetAsync(t.raw_data(), 0, t.numel() * dtype_size(t.dtype()), current_stream()));
}

// The data pointer of an optional operand, null when it is undefined.
template <class T>
T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Grid for kernels that give each of `items` a whole block in a grid-stride loop.
inline unsigned blocks_for_items(int64_t items) {
  return static_cast<unsigned>(std::clamp<int64_t>(items, 1, int64_t{1} << 20));
}

constexpr int kWarpsPerBlock = kThreadsPerBlock / 32;

// The sum of every thread's v, returned to all threads of the block. Every thread of the block
// must call it (it synchronises); `scratch` is shared memory of kWarpsPerBlock doubles, free
// again when the call returns. The order of additions depends only on blockDim, so results
// repeat bit for bit.
__device__ inline double block_sum(double v, double* scratch) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0;
    for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) total += scratch[w];
    scratch[0] = total;
  }
  __syncthreads();
  const double total = scratch[0];
  __syncthreads();  // everyone has read scratch[0] before the next call writes it
  return total;
}

}  // namespace maskdet::cuda
