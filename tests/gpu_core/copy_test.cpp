// CPU-vs-CUDA tests of cuda::copy (every dtype pair, strided source and destination, odd and
// empty sizes) and cuda::fill (every dtype, strided views, converted values). Both are exact:
// a conversion is one static_cast on either device.
#include "gpu_core_util.h"

namespace maskdet {
namespace {
using namespace test;

// Values every dtype holds exactly or truncates the same way: [0, 200) with fractions.
Tensor copyable(const Shape& shape, DType dtype, uint64_t seed) { return uniform(shape, dtype, seed, 0.0, 200.0); }

TEST(GpuCopy, EveryDtypePairAndSize) {
  MASKDET_REQUIRE_GPU();
  for (DType from : all_dtypes()) {
    for (DType to : all_dtypes()) {
      for (int64_t n : odd_sizes()) {
        SCOPED_TRACE(std::string(dtype_name(from)) + " -> " + dtype_name(to) + ", n = " + std::to_string(n));
        const Tensor src = copyable({n}, from, 1000 + n);
        Tensor expected = empty({n}, {to});
        cpu::copy(src, expected);
        Tensor dst = empty({n}, {to, Device::cuda()});
        cuda::copy(on_gpu(src), dst);
        EXPECT_TRUE(gpu_equals_cpu(dst, expected));
      }
    }
  }
}

TEST(GpuCopy, StridedSourceAndDestination) {
  MASKDET_REQUIRE_GPU();
  for (const Layout& layout : strided_layouts()) {
    for (DType from : {DType::Float32, DType::Float64, DType::Int64}) {
      for (DType to : {DType::Float64, DType::Float32, DType::UInt8}) {
        SCOPED_TRACE(std::string(layout.name) + ": " + dtype_name(from) + " -> " + dtype_name(to));
        const Pair src = both_devices(copyable(layout.base_shape, from, 7), layout.view);
        // The destination is strided too: a slice of a wider base whose other elements must
        // stay as they were.
        const Shape shape = src.cpu.shape();
        Shape padded = shape;
        padded.back() += 3;
        const Pair base = both_devices(copyable(padded, to, 8));
        const auto dst_view = [&](const Tensor& t) { return t.slice(-1, 1, shape.back() + 1); };
        cpu::copy(src.cpu, dst_view(base.cpu));
        cuda::copy(src.gpu, dst_view(base.gpu));
        EXPECT_TRUE(gpu_equals_cpu(base.gpu, base.cpu));
      }
    }
  }
}

TEST(GpuCopy, BroadcastSourceAndEmptyShapes) {
  MASKDET_REQUIRE_GPU();
  // A stride-0 source fans one row out to every row of the destination.
  const Pair row = both_devices(copyable({1, 37}, DType::Float32, 3), [](const Tensor& t) { return t.expand({5, 37}); });
  Tensor expected = empty({5, 37}, {DType::Float64});
  cpu::copy(row.cpu, expected);
  Tensor dst = empty({5, 37}, {DType::Float64, Device::cuda()});
  cuda::copy(row.gpu, dst);
  EXPECT_TRUE(gpu_equals_cpu(dst, expected));
  // Scalars and tensors with a zero dim.
  for (const Shape& shape : {Shape{}, Shape{3, 0, 5}, Shape{0}}) {
    SCOPED_TRACE(shape_str(shape));
    const Tensor src = copyable(shape, DType::Float32, 4);
    Tensor out = empty(shape, {DType::Int64, Device::cuda()});
    cuda::copy(on_gpu(src), out);
    Tensor expected_int = empty(shape, {DType::Int64});
    cpu::copy(src, expected_int);
    EXPECT_TRUE(gpu_equals_cpu(out, expected_int));
  }
}

TEST(GpuCopy, ManyDimsCollapseOrFailClearly) {
  MASKDET_REQUIRE_GPU();
  const Shape nine(9, 2);
  const Tensor src = copyable(nine, DType::Float32, 5);
  Tensor dst = empty(nine, {DType::Float32, Device::cuda()});
  cuda::copy(on_gpu(src), dst);  // dense: collapses to one dim
  EXPECT_TRUE(gpu_equals_cpu(dst, src));
  // Reversing all nine dims leaves nothing to merge: more dims than the kernels walk.
  const std::vector<int64_t> reversed{8, 7, 6, 5, 4, 3, 2, 1, 0};
  EXPECT_ERROR_CONTAINS(cuda::copy(on_gpu(src).permute(reversed), dst), "at most 8");
}

TEST(GpuCopy, RejectsMismatchedShapesAndDevices) {
  MASKDET_REQUIRE_GPU();
  Tensor a = empty({3, 4}, {DType::Float32, Device::cuda()});
  Tensor b = empty({4, 3}, {DType::Float32, Device::cuda()});
  EXPECT_ERROR_CONTAINS(cuda::copy(a, b), "copy: src has shape (3, 4)");
  EXPECT_ERROR_CONTAINS(cuda::copy(empty({3, 4}), a), "src is on cpu");
}

TEST(GpuFill, EveryDtypeAndSize) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : all_dtypes()) {
    for (int64_t n : odd_sizes()) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + ", n = " + std::to_string(n));
      Tensor expected = empty({n}, {dtype});
      cpu::fill(expected, 3.75);  // truncated to 3 for the integer dtypes
      Tensor out = empty({n}, {dtype, Device::cuda()});
      cuda::fill(out, 3.75);
      EXPECT_TRUE(gpu_equals_cpu(out, expected));
    }
  }
}

TEST(GpuFill, StridedViewsLeaveTheRestAlone) {
  MASKDET_REQUIRE_GPU();
  for (const Layout& layout : strided_layouts()) {
    for (DType dtype : all_dtypes()) {
      SCOPED_TRACE(std::string(layout.name) + ", " + dtype_name(dtype));
      const Pair base = both_devices(copyable(layout.base_shape, dtype, 11));
      cpu::fill(layout.view(base.cpu), -0.0);
      cuda::fill(layout.view(base.gpu), -0.0);
      EXPECT_TRUE(gpu_equals_cpu(base.gpu, base.cpu));
    }
  }
  // A scalar and an empty tensor.
  Tensor scalar = empty({}, {DType::Float64, Device::cuda()});
  cuda::fill(scalar, -2.5);
  EXPECT_EQ(scalar.item(), -2.5);
  cuda::fill(empty({4, 0}, {DType::Float32, Device::cuda()}), 1.0);
}

}  // namespace
}  // namespace maskdet
