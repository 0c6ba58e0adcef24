// CUDA index_select and gather with their scatter-add backwards (tensor/kernels/index.h),
// following tensor/cpu/index.cpp. Every dtype; gather walks any strides (the strided offsets of
// cuda/kernels/strided.cuh).
//
// Index values are validated first, by a kernel that records the first (row-major) bad
// position with atomicMin (cuda/kernels/bad_position.cuh); the host reads it back (the one
// synchronisation these kernels cost) and raises the CPU's error, naming the value and its
// position, before anything is written.
//
// The backwards add without atomics, each output element summing its contributions in the
// CPU's order, so both backends agree bit for bit:
// - index_select_backward sorts the index (a stable radix sort, cub::DeviceRadixSort, keeps
//   equal indices in k order); each grad_x element finds its run of k by binary search and adds
//   those slices in turn.
// - gather_backward gives each line along `dim` one thread, as the CPU gives it one loop: lines
//   that differ elsewhere never touch the same grad_x element. A long gathered dim therefore
//   runs serially per line (fine for the max-reduction backward, whose lines have length 1).
// References: the CUB documentation of cub::DeviceRadixSort (SortPairs, stable), the CUDA C++
// Programming Guide on atomicMin.
#include <cub/device/device_radix_sort.cuh>

#include "cuda/kernels/bad_position.cuh"
#include "cuda/kernels/nn_common.cuh"
#include "tensor/creation.h"
#include "tensor/kernels/index.h"
#include "tensor/kernels/index_checks.h"

namespace maskdet::cuda {

namespace {

__global__ void find_bad_index_kernel(const int64_t* __restrict__ index,  // any shape and strides
                                      StridedOffsets<1> offsets, int64_t count, int64_t size,
                                      unsigned long long* __restrict__ first_bad) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < count; p += step) {
    int64_t off[1];
    offsets.at(p, off);
    const int64_t v = index[off[0]];
    if (v < 0 || v >= size) flag_bad_position(first_bad, p);
  }
}

// Throws for the first index value outside [0, size), with the CPU kernel's message.
void check_index_values(const Tensor& index, int64_t size, int64_t dim, const Shape& indexed_shape,
                        const char* kernel) {
  kernels::check_index_dtype(index, kernel);
  const int64_t count = index.numel();
  if (count == 0) return;
  DeviceGuard guard(index.device().index);
  const BadPositionFlag first_bad(index.device());
  const StridedOffsets<1> offsets = make_strided_offsets<1>(index.shape(), {&index.strides()}, kernel);
  find_bad_index_kernel<<<blocks_for(count), kThreadsPerBlock, 0, current_stream()>>>(
      index.data_ptr<int64_t>(), offsets, count, size, first_bad.get());
  CUDA_CHECK_LAUNCH();
  const int64_t bad = first_bad.read();
  if (bad < 0) return;
  const Shape where = kernels::unravel_position(bad, index.shape());
  int64_t offset = 0;
  for (int64_t d = 0; d < index.dim(); ++d) offset += where[d] * index.strides()[d];
  int64_t value = 0;
  maskdet::cuda::memcpy(&value, index.data_ptr<int64_t>() + offset, sizeof value, CopyKind::DeviceToHost);
  kernels::fail_index_out_of_range(value, where, size, dim, indexed_shape, kernel);
}

using kernels::IndexSelectLayout;

// ---- index_select ----

template <class T>
__global__ void index_select_forward_kernel(const T* __restrict__ x,            // (outer, n, inner)
                                            const int64_t* __restrict__ index,  // (K), stride index_stride
                                            T* __restrict__ out,                // (outer, K, inner)
                                            int64_t total, int64_t n, int64_t picks, int64_t inner,
                                            int64_t index_stride) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < total; r += step) {
    const int64_t i = r % inner, k = (r / inner) % picks, o = r / (inner * picks);
    out[r] = x[(o * n + index[k * index_stride]) * inner + i];
  }
}

// The index values (keys) and their positions k (values), ready for sorting.
__global__ void index_keys_kernel(const int64_t* __restrict__ index,  // (K), stride index_stride
                                  int64_t index_stride, int64_t picks,
                                  int64_t* __restrict__ keys,       // (K)
                                  int64_t* __restrict__ positions)  // (K)
{
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < picks; k += step) {
    keys[k] = index[k * index_stride];
    positions[k] = k;
  }
}

// The first position in sorted[0, count) holding a value >= v.
__device__ int64_t lower_bound(const int64_t* sorted, int64_t count, int64_t v) {
  int64_t lo = 0, hi = count;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// One thread per grad_x element (o, j, i): adds grad_out[o, k, i] for every k with index[k] == j,
// k ascending (the stable sort's order within equal keys).
template <class T>
__global__ void index_add_gather_kernel(const T* __restrict__ grad_out,            // (outer, K, inner)
                                        const int64_t* __restrict__ sorted_keys,   // (K)
                                        const int64_t* __restrict__ sorted_positions,  // (K)
                                        T* __restrict__ grad_x,                    // (outer, n, inner)
                                        int64_t total, int64_t n, int64_t picks, int64_t inner) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
    const int64_t i = e % inner, j = (e / inner) % n, o = e / (inner * n);
    const int64_t begin = lower_bound(sorted_keys, picks, j), end = lower_bound(sorted_keys, picks, j + 1);
    if (begin == end) continue;
    T sum = grad_x[e];
    for (int64_t p = begin; p < end; ++p) sum += grad_out[(o * picks + sorted_positions[p]) * inner + i];
    grad_x[e] = sum;
  }
}

// ---- gather ----

// offsets over index's shape: {index, out, x with dim's stride 0}.
template <class T>
__global__ void gather_forward_kernel(const T* __restrict__ x,            // x's shape, any strides
                                      const int64_t* __restrict__ index,  // rank R, any strides
                                      T* __restrict__ out,                // index's shape, any strides
                                      int64_t total, StridedOffsets<3> offsets, int64_t x_step) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < total; p += step) {
    int64_t off[3];
    offsets.at(p, off);
    out[off[1]] = x[off[2] + index[off[0]] * x_step];
  }
}

// One thread per line along dim; offsets over index's shape with dim collapsed to 1:
// {index, grad_x with dim's stride 0, grad_out}.
template <class T>
__global__ void gather_backward_kernel(const T* __restrict__ grad_out,    // index's shape, any strides
                                       const int64_t* __restrict__ index,  // rank R, any strides
                                       T* __restrict__ grad_x,             // x's shape, any strides
                                       int64_t lines, StridedOffsets<3> offsets,
                                       int64_t length, int64_t index_step, int64_t grad_out_step,
                                       int64_t grad_x_step) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t line = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; line < lines; line += step) {
    int64_t off[3];
    offsets.at(line, off);
    for (int64_t k = 0; k < length; ++k)
      grad_x[off[1] + index[off[0] + k * index_step] * grad_x_step] += grad_out[off[2] + k * grad_out_step];
  }
}

}  // namespace

// x: (..., n, ...); index: (K) int64 in [0, n); out: (..., K, ...). x and out contiguous, one
// dtype, one GPU. Overwrites out.
void index_select_forward(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  constexpr const char* kernel = "index_select_forward";
  const IndexSelectLayout l = kernels::check_index_select_args(x, dim, index, out, kernel, Backend::Cuda);
  check_index_values(index, l.size, dim, x.shape(), kernel);
  DeviceGuard guard(x.device().index);
  const int64_t total = out.numel();
  if (total == 0) return;
  dispatch_all(x.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    index_select_forward_kernel<T><<<blocks_for(total), kThreadsPerBlock, 0, current_stream()>>>(
        x.data_ptr<T>(), index.data_ptr<int64_t>(), out.data_ptr<T>(), total, l.size, index.size(0), l.inner,
        index.strides()[0]);
    CUDA_CHECK_LAUNCH();
  });
}

// grad_out: (..., K, ...); index: (K) int64; grad_x: (..., n, ...). Contiguous, one dtype, one
// GPU. ADDS TO grad_x.
void index_select_backward(const Tensor& grad_out, int64_t dim, const Tensor& index, const Tensor& grad_x) {
  constexpr const char* kernel = "index_select_backward";
  const IndexSelectLayout l = kernels::check_index_select_args(grad_x, dim, index, grad_out, kernel, Backend::Cuda);
  check_index_values(index, l.size, dim, grad_x.shape(), kernel);
  DeviceGuard guard(grad_x.device().index);
  const int64_t picks = index.size(0), total = grad_x.numel();
  if (picks == 0 || total == 0) return;
  const cudaStream_t stream = current_stream();
  const TensorOptions i64 = index.options();
  const Tensor keys = empty({picks}, i64), positions = empty({picks}, i64);
  const Tensor sorted_keys = empty({picks}, i64), sorted_positions = empty({picks}, i64);
  index_keys_kernel<<<blocks_for(picks), kThreadsPerBlock, 0, stream>>>(
      index.data_ptr<int64_t>(), index.strides()[0], picks, keys.data_ptr<int64_t>(), positions.data_ptr<int64_t>());
  CUDA_CHECK_LAUNCH();
  size_t temp_bytes = 0;
  CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys.data_ptr<int64_t>(),
                                             sorted_keys.data_ptr<int64_t>(), positions.data_ptr<int64_t>(),
                                             sorted_positions.data_ptr<int64_t>(), picks, 0, 64, stream));
  const Tensor temp = empty({static_cast<int64_t>(temp_bytes)}, i64.with_dtype(DType::UInt8));
  CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.raw_data(), temp_bytes, keys.data_ptr<int64_t>(),
                                             sorted_keys.data_ptr<int64_t>(), positions.data_ptr<int64_t>(),
                                             sorted_positions.data_ptr<int64_t>(), picks, 0, 64, stream));
  dispatch_all(grad_out.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    index_add_gather_kernel<T><<<blocks_for(total), kThreadsPerBlock, 0, stream>>>(
        grad_out.data_ptr<T>(), sorted_keys.data_ptr<int64_t>(), sorted_positions.data_ptr<int64_t>(),
        grad_x.data_ptr<T>(), total, l.size, picks, l.inner);
    CUDA_CHECK_LAUNCH();
  });
}

// x: any shape of rank R, any strides; index: rank R, int64; out: index's shape, x's dtype.
// Overwrites out.
void gather_forward(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  constexpr const char* kernel = "gather_forward";
  const int64_t size = kernels::check_gather_args(x, dim, index, out, kernel, Backend::Cuda);
  check_index_values(index, size, dim, x.shape(), kernel);
  DeviceGuard guard(x.device().index);
  const int64_t total = index.numel();
  if (total == 0) return;
  Shape x_strides = x.strides();
  int64_t x_step = 0;
  if (x.dim() > 0) {
    x_step = x_strides[dim];
    x_strides[dim] = 0;
  }
  const StridedOffsets<3> offsets =
      make_strided_offsets<3>(index.shape(), {&index.strides(), &out.strides(), &x_strides}, kernel);
  dispatch_all(x.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    gather_forward_kernel<T><<<blocks_for(total), kThreadsPerBlock, 0, current_stream()>>>(
        x.data_ptr<T>(), index.data_ptr<int64_t>(), out.data_ptr<T>(), total, offsets, x_step);
    CUDA_CHECK_LAUNCH();
  });
}

// grad_out: index's shape; index: rank R, int64; grad_x: x's shape. Any strides (grad_x must not
// overlap itself). ADDS TO grad_x.
void gather_backward(const Tensor& grad_out, int64_t dim, const Tensor& index, const Tensor& grad_x) {
  constexpr const char* kernel = "gather_backward";
  const int64_t size = kernels::check_gather_args(grad_x, dim, index, grad_out, kernel, Backend::Cuda);
  check_index_values(index, size, dim, grad_x.shape(), kernel);
  DeviceGuard guard(grad_x.device().index);
  if (index.numel() == 0) return;
  Shape lines_shape = index.shape(), grad_x_strides = grad_x.strides();
  int64_t length = 1, index_step = 0, grad_out_step = 0, grad_x_step = 0;
  if (index.dim() > 0) {
    length = lines_shape[dim];
    lines_shape[dim] = 1;
    index_step = index.strides()[dim];
    grad_out_step = grad_out.strides()[dim];
    grad_x_step = grad_x_strides[dim];
    grad_x_strides[dim] = 0;
  }
  const int64_t lines = shape_numel(lines_shape);
  const StridedOffsets<3> offsets =
      make_strided_offsets<3>(lines_shape, {&index.strides(), &grad_x_strides, &grad_out.strides()}, kernel);
  dispatch_all(grad_out.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    gather_backward_kernel<T><<<blocks_for(lines), kThreadsPerBlock, 0, current_stream()>>>(
        grad_out.data_ptr<T>(), index.data_ptr<int64_t>(), grad_x.data_ptr<T>(), lines, offsets, length, index_step,
        grad_out_step, grad_x_step);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace maskdet::cuda
