// Helpers of the detection CPU-vs-CUDA tests (tests/gpu_detection): device buffers and the
// seeded box generators shared by the box and NMS tests.
#pragma once
#include <vector>

#include "cuda/context.h"
#include "gpu_test_util.h"

namespace maskdet::test {

// An uninitialised CUDA tensor. Tests fill GPU tensors by copying host ones (on_gpu), since
// fill has no CUDA kernel in a build without MASKDET_CUDA_KERNELS.
inline Tensor gpu_empty(const Shape& shape, DType dtype) { return empty(shape, {dtype, Device::cuda()}); }

// The GPU result on the host, after the queued kernels have finished.
inline Tensor synced_to_host(const Tensor& t) {
  cuda::synchronize();
  return on_cpu(t);
}

// n boxes (x1, y1, x2, y2), flattened: top-left corner uniform in [0, extent)^2, width and
// height uniform in [min_size, max_size).
inline std::vector<double> random_boxes(int64_t n, Generator& gen, double extent, double min_size, double max_size) {
  std::vector<double> v;
  v.reserve(4 * n);
  for (int64_t i = 0; i < n; ++i) {
    const double x = extent * gen.uniform(), y = extent * gen.uniform();
    const double w = min_size + (max_size - min_size) * gen.uniform();
    const double h = min_size + (max_size - min_size) * gen.uniform();
    v.insert(v.end(), {x, y, x + w, y + h});
  }
  return v;
}

inline Tensor boxes_tensor(const std::vector<double>& flat, DType dtype) {
  return from_vector(flat, {static_cast<int64_t>(flat.size() / 4), 4}, {dtype});
}

}  // namespace maskdet::test
