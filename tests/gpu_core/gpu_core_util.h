// Helpers for the CPU-vs-CUDA tests of the core kernels (copy, elementwise, reduce, matmul,
// optim): the same random input on both devices, a host copy of a GPU tensor of any strides,
// and the sizes and tolerances the suites share.
#pragma once
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "cuda/context.h"
#include "gpu_test_util.h"
#include "tensor/kernels/copy.h"

namespace maskdet::test {

// Sizes that straddle the launch geometry: empty, one element, below / just above a warp,
// non-multiples of the 256-thread block, and more than one block per SM.
inline const std::vector<int64_t>& odd_sizes() {
  static const std::vector<int64_t> sizes{0, 1, 7, 33, 255, 257, 1031, 100003};
  return sizes;
}

inline const std::vector<DType>& float_dtypes() {
  static const std::vector<DType> d{DType::Float32, DType::Float64};
  return d;
}
inline const std::vector<DType>& all_dtypes() {
  static const std::vector<DType> d{DType::Float32, DType::Float64, DType::Int64, DType::UInt8};
  return d;
}

// Uniform values in [lo, hi) of `dtype` (integer dtypes truncate), on the CPU.
inline Tensor uniform(const Shape& shape, DType dtype, uint64_t seed, double lo = -2.0, double hi = 2.0) {
  Generator g(seed);
  return rand(shape, {dtype}, &g, lo, hi);
}

// Small integers in [lo, hi] stored as `dtype`: many exact ties, for comparisons and max.
inline Tensor small_ints(const Shape& shape, DType dtype, uint64_t seed, int lo, int hi) {
  Generator g(seed);
  std::vector<double> v(shape_numel(shape));
  for (double& x : v) x = std::floor(lo + (hi - lo + 1) * g.uniform());
  return from_vector(v, shape, {dtype});
}

// A dense host copy of a GPU tensor with any strides: made dense on the GPU by cuda::copy,
// because until MASKDET_CUDA_KERNELS is on the dispatcher has no strided device copy.
inline Tensor to_host(const Tensor& t) {
  if (t.is_contiguous()) return on_cpu(t);
  Tensor dense = empty(t.shape(), t.options());
  cuda::copy(t, dense);
  return on_cpu(dense);
}

// Tolerances of float results computed in another order or with another libm: float32 is
// checked to ~1e-5 relative (about 100 ulp), float64 to 1e-12.
struct Tolerance {
  double atol, rtol;
};
inline Tolerance tolerance_for(DType dtype) {
  switch (dtype) {
    case DType::Float32: return {1e-6, 1e-5};
    case DType::Float64: return {1e-13, 1e-12};
    default: return {0, 0};  // integers are exact
  }
}

// Two ulp of the dtype, relative: what "the same arithmetic, rounded the same way" allows.
inline Tolerance ulp_tolerance(DType dtype) {
  return dtype == DType::Float32 ? Tolerance{0, 2.0 * std::numeric_limits<float>::epsilon()}
                                 : Tolerance{0, 2.0 * std::numeric_limits<double>::epsilon()};
}

// The GPU result (any strides) against the CPU one, element for element.
inline ::testing::AssertionResult gpu_matches_cpu(const Tensor& gpu, const Tensor& cpu, Tolerance tol) {
  return tensors_near(to_host(gpu), cpu, tol.atol, tol.rtol);
}

// Exact equality, NaNs matching NaNs; for integers, indices and bit-for-bit claims.
inline ::testing::AssertionResult gpu_equals_cpu(const Tensor& gpu, const Tensor& cpu) {
  const Tensor g = to_host(gpu);
  if (g.shape() != cpu.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << shape_str(g.shape()) << " vs " << shape_str(cpu.shape());
  if (g.dtype() != cpu.dtype())
    return ::testing::AssertionFailure() << "dtypes differ: " << dtype_name(g.dtype()) << " vs " << dtype_name(cpu.dtype());
  const auto a = g.to_vector<double>();
  const auto e = cpu.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    const bool same = (std::isnan(a[i]) && std::isnan(e[i])) || a[i] == e[i];
    if (!same) return ::testing::AssertionFailure() << "flat " << i << ": gpu " << a[i] << ", cpu " << e[i];
  }
  return ::testing::AssertionSuccess();
}

// A view of the same kind on a CPU tensor and on its GPU copy, made by `view`.
struct Pair {
  Tensor cpu, gpu;
};
inline Pair both_devices(const Tensor& base, const std::function<Tensor(const Tensor&)>& view = nullptr) {
  Tensor gpu_base = on_gpu(base);
  if (!view) return {base, gpu_base};
  return {view(base), view(gpu_base)};
}

// Strided layouts every elementwise kernel is run on: dense, transposed, stepped slice, and a
// permuted 3-D view. Each builds its view from a dense base of `base_shape`.
struct Layout {
  const char* name;
  Shape base_shape;
  std::function<Tensor(const Tensor&)> view;
};
inline std::vector<Layout> strided_layouts() {
  return {
      {"transposed (33, 17)^T", {33, 17}, [](const Tensor& t) { return t.transpose(0, 1); }},
      {"every other column of (9, 70)", {9, 70}, [](const Tensor& t) { return t.slice(1, 1, 70, 2); }},
      {"permuted (4, 5, 6) -> (6, 4, 5)", {4, 5, 6}, [](const Tensor& t) { return t.permute({2, 0, 1}); }},
      {"sliced and transposed (40, 30)", {40, 30},
       [](const Tensor& t) { return t.slice(0, 3, 37, 3).slice(1, 2, 29).transpose(0, 1); }},
  };
}

// Turns TF32 off for the test's scope (float32 GEMMs then compare at ~1e-5) and restores it.
class Fp32Scope {
 public:
  Fp32Scope() : previous_(cuda::allow_tf32()) { cuda::set_allow_tf32(false); }
  ~Fp32Scope() { cuda::set_allow_tf32(previous_); }

 private:
  bool previous_;
};

}  // namespace maskdet::test
