// CPU-vs-CUDA tests of sum_forward (every dtype, no dims, some dims, all dims, strided inputs,
// short serial and long chunked reductions, empty inputs, repeatability) and max_forward
// (ties, NaNs, short and long dims, strided inputs, every dtype).
//
// Tolerances: both devices add float sums in double, but a long reduction (> 64 elements) is
// added in another order on the GPU, so a float32 result may round to the neighbouring float
// (rtol 1e-6) and a float64 one differ by the rounding of a long running sum (~1e-11 for the
// CPU's serial sums of 3e5 values of size ~1; atol 1e-9). Integer sums and everything max returns must be exact.
#include "gpu_core_util.h"
#include "tensor/kernels/reduce.h"

namespace maskdet {
namespace {
using namespace test;

Tolerance sum_tolerance(DType dtype) {
  switch (dtype) {
    case DType::Float32: return {1e-6, 1e-6};
    case DType::Float64: return {1e-9, 1e-12};
    default: return {0, 0};
  }
}

// Inputs for the sums: uniform floats, small integers (uint8 sums wrap the same way on both).
Tensor sum_input(const Shape& shape, DType dtype, uint64_t seed) {
  return is_floating(dtype) ? uniform(shape, dtype, seed) : small_ints(shape, dtype, seed, 0, 9);
}

Shape keepdim_shape(Shape shape, const std::vector<int64_t>& dims) {
  for (int64_t d : dims) shape[d] = 1;
  return shape;
}

void check_sum(const Pair& x, const std::vector<int64_t>& dims) {
  const DType dtype = x.cpu.dtype();
  const Shape out_shape = keepdim_shape(x.cpu.shape(), dims);
  const Tensor out_cpu = empty(out_shape, {dtype});
  const Tensor out_gpu = empty(out_shape, {dtype, Device::cuda()});
  cpu::sum_forward(x.cpu, dims, out_cpu);
  cuda::sum_forward(x.gpu, dims, out_gpu);
  EXPECT_TRUE(gpu_matches_cpu(out_gpu, out_cpu, sum_tolerance(dtype)));
}

std::string dims_str(const std::vector<int64_t>& dims) { return "dims " + shape_str(dims); }

TEST(GpuSum, DimSubsetsOfA4dTensor) {
  MASKDET_REQUIRE_GPU();
  const std::vector<std::vector<int64_t>> dim_sets{{}, {0}, {1}, {3}, {0, 2}, {1, 3}, {0, 2, 3}, {0, 1, 2, 3}};
  for (DType dtype : all_dtypes())
    for (const auto& dims : dim_sets) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + ", " + dims_str(dims));
      check_sum(both_devices(sum_input({2, 3, 5, 7}, dtype, 51)), dims);
    }
}

TEST(GpuSum, ShortAndLongReductions) {
  MASKDET_REQUIRE_GPU();
  // (shape, dims): serial (<= 64 elements per output, the boundary included), one block per
  // output (one chunk), and chunked (> 16384 elements: partials added by a second pass).
  const std::vector<std::pair<Shape, std::vector<int64_t>>> cases{
      {{1}, {0}},          {{7}, {0}},          {{33}, {0}},          {{64, 1001}, {0}},   {{65, 33}, {0}},
      {{64, 1001}, {1}},   {{1031}, {0}},       {{100003}, {0}},      {{300001}, {0}},     {{3, 70000}, {1}},
      {{3, 70000}, {0}},   {{70000, 3}, {0}},   {{16384}, {0}},       {{16385}, {0}},      {{8, 16, 40, 40}, {0, 2, 3}},
  };
  for (DType dtype : all_dtypes())
    for (const auto& [shape, dims] : cases) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + ", " + shape_str(shape) + ", " + dims_str(dims));
      check_sum(both_devices(sum_input(shape, dtype, 52)), dims);
    }
}

TEST(GpuSum, StridedInputs) {
  MASKDET_REQUIRE_GPU();
  for (const Layout& layout : strided_layouts())
    for (DType dtype : {DType::Float32, DType::Float64, DType::Int64}) {
      const Pair x = both_devices(sum_input(layout.base_shape, dtype, 53), layout.view);
      for (int64_t d = 0; d < x.cpu.dim(); ++d) {
        SCOPED_TRACE(std::string(layout.name) + ", " + dtype_name(dtype) + ", dim " + std::to_string(d));
        check_sum(x, {d});
      }
      SCOPED_TRACE(std::string(layout.name) + ", all dims");
      std::vector<int64_t> all(x.cpu.dim());
      for (int64_t d = 0; d < x.cpu.dim(); ++d) all[d] = d;
      check_sum(x, all);
    }
  // A broadcast (stride-0) input: every term is the same element.
  SCOPED_TRACE("expanded");
  check_sum(both_devices(uniform({1, 50}, DType::Float64, 54), [](const Tensor& t) { return t.expand({20000, 50}); }),
            {0});
}

TEST(GpuSum, EmptyInputsAndOutputs) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : all_dtypes()) {
    SCOPED_TRACE(dtype_name(dtype));
    check_sum(both_devices(sum_input({5, 0, 3}, dtype, 55)), {1});     // nothing to add: zeros
    check_sum(both_devices(sum_input({5, 0, 3}, dtype, 55)), {0, 1, 2});
    check_sum(both_devices(sum_input({5, 0, 3}, dtype, 55)), {0});     // no outputs
    check_sum(both_devices(sum_input({}, dtype, 55)), {});             // a scalar
  }
}

TEST(GpuSum, RepeatsBitForBit) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = on_gpu(uniform({4, 200003}, DType::Float32, 56));
  Tensor first = empty({4, 1}, {DType::Float32, Device::cuda()});
  Tensor second = empty({4, 1}, {DType::Float32, Device::cuda()});
  cuda::sum_forward(x, {1}, first);
  for (int i = 0; i < 5; ++i) {
    cuda::sum_forward(x, {1}, second);
    EXPECT_EQ(first.to_vector<float>(), second.to_vector<float>());
  }
}

TEST(GpuSum, RejectsBadArguments) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = empty({3, 4}, {DType::Float32, Device::cuda()});
  EXPECT_ERROR_CONTAINS(cuda::sum_forward(x, {2}, empty({3, 4}, {DType::Float32, Device::cuda()})),
                        "sum: dim 2 out of range for shape (3, 4)");
  EXPECT_ERROR_CONTAINS(cuda::sum_forward(x, {1}, empty({3}, {DType::Float32, Device::cuda()})),
                        "sum: out has shape (3,), expected (3, 1)");
  EXPECT_ERROR_CONTAINS(cuda::sum_forward(x, {}, empty({4, 3}, {DType::Float32, Device::cuda()}).transpose(0, 1)),
                        "sum: out must be contiguous");
}

void check_max(const Pair& x, int64_t dim) {
  const DType dtype = x.cpu.dtype();
  const Shape out_shape = keepdim_shape(x.cpu.shape(), {dim});
  const Tensor v_cpu = empty(out_shape, {dtype}), i_cpu = empty(out_shape, {DType::Int64});
  const Tensor v_gpu = empty(out_shape, {dtype, Device::cuda()}), i_gpu = empty(out_shape, {DType::Int64, Device::cuda()});
  cpu::max_forward(x.cpu, dim, v_cpu, i_cpu);
  cuda::max_forward(x.gpu, dim, v_gpu, i_gpu);
  EXPECT_TRUE(gpu_equals_cpu(v_gpu, v_cpu)) << "values";
  EXPECT_TRUE(gpu_equals_cpu(i_gpu, i_cpu)) << "indices";
}

// Small integers (ties everywhere) with, for floats, a NaN in some rows: at most one per row
// in some, two in others (the first must win), none in the rest.
Tensor max_input(const Shape& shape, DType dtype, uint64_t seed, int64_t dim) {
  Tensor x = small_ints(shape, dtype, seed, 0, 5);
  if (!is_floating(dtype) || x.numel() == 0) return x;
  std::vector<double> v = x.to_vector<double>();
  const int64_t len = shape[dim];
  int64_t inner = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
  const int64_t rows = x.numel() / len;
  for (int64_t r = 0; r < rows; r += 3) {
    const int64_t outer = r / inner, in = r % inner;
    const auto at = [&](int64_t i) -> double& { return v[(outer * len + i) * inner + in]; };
    at((r * 7) % len) = std::numeric_limits<double>::quiet_NaN();
    if (r % 2 == 0) at(len - 1) = std::numeric_limits<double>::quiet_NaN();
  }
  return from_vector(v, shape, {dtype});
}

TEST(GpuMax, TiesAndNaNsShortAndLongDims) {
  MASKDET_REQUIRE_GPU();
  // Dims up to 256 long take the serial kernel, longer ones the block kernel.
  const std::vector<std::pair<Shape, int64_t>> cases{
      {{1}, 0},       {{7}, 0},         {{33, 5}, 0},    {{33, 5}, 1},     {{4, 256}, 1},   {{4, 257}, 1},
      {{3, 1031}, 1}, {{1031, 3}, 0},   {{2, 5, 7}, 1},  {{100003}, 0},   {{5, 3000, 2}, 1}, {{200, 300}, 0},
  };
  for (DType dtype : all_dtypes())
    for (const auto& [shape, dim] : cases) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + ", " + shape_str(shape) + ", dim " + std::to_string(dim));
      check_max(both_devices(max_input(shape, dtype, 61, dim)), dim);
    }
}

TEST(GpuMax, StridedInputsAndSignedZeros) {
  MASKDET_REQUIRE_GPU();
  for (const Layout& layout : strided_layouts())
    for (DType dtype : {DType::Float32, DType::Int64}) {
      const Pair x = both_devices(small_ints(layout.base_shape, dtype, 62, 0, 3), layout.view);
      for (int64_t d = 0; d < x.cpu.dim(); ++d) {
        SCOPED_TRACE(std::string(layout.name) + ", " + dtype_name(dtype) + ", dim " + std::to_string(d));
        check_max(x, d);
      }
    }
  // -0 and +0 compare equal: the first one wins, with its own sign, on both paths.
  for (int64_t len : {5, 300}) {
    SCOPED_TRACE("signed zeros, len " + std::to_string(len));
    std::vector<double> v(len, -1.0);
    v[1] = -0.0;
    v[len - 1] = 0.0;
    check_max(both_devices(from_vector(v, {1, len}, {DType::Float64})), 1);
  }
}

TEST(GpuMax, EmptyOutputsAndBadArguments) {
  MASKDET_REQUIRE_GPU();
  check_max(both_devices(uniform({0, 4}, DType::Float32, 63)), 1);
  const Tensor x = empty({3, 0}, {DType::Float32, Device::cuda()});
  EXPECT_ERROR_CONTAINS(cuda::max_forward(x, 1, empty({3, 1}, {DType::Float32, Device::cuda()}),
                                          empty({3, 1}, {DType::Int64, Device::cuda()})),
                        "max: cannot reduce over an empty dim 1 of shape (3, 0)");
  const Tensor y = empty({3, 4}, {DType::Float32, Device::cuda()});
  EXPECT_ERROR_CONTAINS(cuda::max_forward(y, 1, empty({3, 1}, {DType::Float32, Device::cuda()}),
                                          empty({3, 1}, {DType::Float32, Device::cuda()})),
                        "max: indices must be int64");
}

}  // namespace
}  // namespace maskdet
