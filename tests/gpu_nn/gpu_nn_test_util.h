// Helpers for the CPU-vs-CUDA tests of the layer kernels (conv2d, batch_norm, group_norm, pool,
// upsample, index): seeded inputs of either float dtype, GPU buffers, and the comparison with
// its documented tolerances.
//
// Tolerances: each kernel's float32 result is compared at kF32 = 1e-4, relative to the
// element and to the largest magnitude of the CPU result (so sums near zero are judged against
// the size of their terms); float64 at kF64 = 1e-10. Both are far above the last-bit differences
// a different summation order makes, and far below what any indexing or formula error makes.
// Kernels that match the CPU bit for bit are compared exactly (tolerance 0).
#pragma once
#include <algorithm>
#include <cmath>

#include "cuda/context.h"
#include "gpu_test_util.h"

namespace maskdet::test {

constexpr double kF32 = 1e-4;
constexpr double kF64 = 1e-10;
inline double tolerance(DType dtype) { return dtype == DType::Float32 ? kF32 : kF64; }

// Every test runs float32 without TF32, as the brief of cuda/context.h asks of CPU-vs-CUDA tests;
// the one TF32 test turns it on itself.
class GpuNnTest : public ::testing::Test {
 protected:
  void SetUp() override { cuda::set_allow_tf32(false); }
  void TearDown() override { cuda::set_allow_tf32(true); }
};

inline TensorOptions gpu_options(DType dtype) { return TensorOptions{}.with_dtype(dtype).with_device(Device::cuda()); }
inline Tensor empty_gpu(const Shape& shape, DType dtype) { return empty(shape, gpu_options(dtype)); }

// N(0, scale^2) values of `dtype` on the CPU from a private seed.
inline Tensor randn_as(const Shape& shape, DType dtype, uint64_t seed, double scale = 1.0) {
  Generator g(seed);
  return randn(shape, TensorOptions{}.with_dtype(dtype), &g, 0.0, scale);
}

// Uniform values in [lo, hi) of `dtype` on the CPU from a private seed.
inline Tensor rand_as(const Shape& shape, DType dtype, uint64_t seed, double lo, double hi) {
  Generator g(seed);
  return rand(shape, TensorOptions{}.with_dtype(dtype), &g, lo, hi);
}

inline double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_vector<double>()) m = std::max(m, std::abs(v));
  return m;
}

// The GPU result against the CPU one at relative tolerance `rel` (see the file comment).
inline ::testing::AssertionResult gpu_near(const Tensor& gpu, const Tensor& cpu, double rel) {
  const double atol = rel * std::max(1.0, max_abs(cpu));
  return tensors_near(on_cpu(gpu), cpu, atol, rel);
}

// Exact agreement, NaN matching NaN.
inline ::testing::AssertionResult gpu_equal(const Tensor& gpu, const Tensor& cpu) {
  return tensors_near(on_cpu(gpu), cpu, 0.0, 0.0);
}

}  // namespace maskdet::test
