// CPU-vs-CUDA tests of index_select and gather (cuda/kernels/index.cu): forward and scatter-add
// backward along every dim, repeated indices, every dtype, strided operands, 0-dim gathers; all
// compared exactly (the backwards add in the CPU's order). The out-of-range error must carry
// the CPU's message (the first bad value and its position) and leave the output untouched.
#include <string>
#include <vector>

#include "gpu_nn_test_util.h"
#include "tensor/kernels/index.h"

namespace maskdet::test {
namespace {

using IndexGpu = GpuNnTest;

Tensor index_of(const std::vector<int64_t>& values, const Shape& shape) {
  return from_vector<int64_t>(values, shape, TensorOptions{}.with_dtype(DType::Int64));
}

// Values of any dtype: small integers, so uint8 and int64 sums stay exact too.
Tensor values_as(const Shape& shape, DType dtype, uint64_t seed) {
  return rand_as(shape, DType::Float64, seed, 0.0, 9.0).to(DType::Int64).to(dtype);
}

const std::vector<DType>& all_dtypes() {
  static const std::vector<DType> d{DType::Float32, DType::Float64, DType::Int64, DType::UInt8};
  return d;
}

// index_gpu: the GPU's copy of index when it must keep a layout on_gpu would make dense.
void check_index_select(const Tensor& x, int64_t dim, const Tensor& index, Tensor index_gpu = Tensor()) {
  if (!index_gpu.defined()) index_gpu = on_gpu(index);
  const DType dtype = x.dtype();
  SCOPED_TRACE(shape_str(x.shape()) + " dim " + std::to_string(dim) + " " + dtype_name(dtype));
  Shape os = x.shape();
  os[dim] = index.size(0);
  Tensor out = empty(os, TensorOptions{}.with_dtype(dtype));
  cpu::index_select_forward(x, dim, index, out);
  Tensor out_gpu = empty_gpu(os, dtype);
  cuda::index_select_forward(on_gpu(x), dim, index_gpu, out_gpu);
  EXPECT_TRUE(gpu_equal(out_gpu, out)) << "forward";

  // The backward adds: start from nonzero values.
  const Tensor grad_out = dtype == DType::Float32 || dtype == DType::Float64 ? randn_as(os, dtype, 701)
                                                                             : values_as(os, dtype, 701);
  Tensor gx = values_as(x.shape(), dtype, 702);
  Tensor gx_gpu = on_gpu(gx);
  cpu::index_select_backward(grad_out, dim, index, gx);
  cuda::index_select_backward(on_gpu(grad_out), dim, index_gpu, gx_gpu);
  EXPECT_TRUE(gpu_equal(gx_gpu, gx)) << "backward";
}

TEST_F(IndexGpu, IndexSelectMatchesCpuAlongEveryDimWithRepeats) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : all_dtypes()) {
    const Tensor x = dtype == DType::Float32 || dtype == DType::Float64 ? randn_as({5, 6, 7}, dtype, 711)
                                                                        : values_as({5, 6, 7}, dtype, 711);
    check_index_select(x, 0, index_of({4, 0, 4, 2, 4, 1, 0}, {7}));
    check_index_select(x, 1, index_of({5, 5, 5, 0}, {4}));
    check_index_select(x, 2, index_of({3}, {1}));
    check_index_select(x, 2, index_of({6, 5, 4, 3, 2, 1, 0, 0, 1, 2, 3}, {11}));
    check_index_select(x, 0, index_of({}, {0}));  // nothing picked
  }
}

TEST_F(IndexGpu, IndexSelectTakesAStridedIndexAndManyPicks) {
  MASKDET_REQUIRE_GPU();
  // Every other element of a longer index: stride 2.
  const Tensor long_index = index_of({3, 9, 1, 9, 3, 9, 0, 9, 3, 9}, {10});
  const Tensor strided_gpu = on_gpu(long_index).slice(0, 0, 10, 2);
  ASSERT_EQ(strided_gpu.strides()[0], 2);
  check_index_select(randn_as({4, 3}, DType::Float32, 721), 0, long_index.slice(0, 0, 10, 2), strided_gpu);
  // RetinaNet's use: thousands of anchors picked from a (A, 4) tensor, many repeated.
  std::vector<int64_t> picks;
  for (int64_t i = 0; i < 3000; ++i) picks.push_back((i * 7919) % 1234);
  check_index_select(randn_as({1234, 4}, DType::Float32, 722), 0, index_of(picks, {3000}));
  check_index_select(randn_as({1234, 4}, DType::Float64, 723), 0, index_of(picks, {3000}));
}

// x_gpu, index_gpu: the GPU's copies when they must keep a layout on_gpu would make dense.
void check_gather(const Tensor& x, int64_t dim, const Tensor& index, Tensor x_gpu = Tensor(),
                  Tensor index_gpu = Tensor()) {
  if (!x_gpu.defined()) x_gpu = on_gpu(x);
  if (!index_gpu.defined()) index_gpu = on_gpu(index);
  const DType dtype = x.dtype();
  SCOPED_TRACE(shape_str(x.shape()) + " dim " + std::to_string(dim) + " " + dtype_name(dtype));
  Tensor out = empty(index.shape(), TensorOptions{}.with_dtype(dtype));
  cpu::gather_forward(x, dim, index, out);
  Tensor out_gpu = empty_gpu(index.shape(), dtype);
  cuda::gather_forward(x_gpu, dim, index_gpu, out_gpu);
  EXPECT_TRUE(gpu_equal(out_gpu, out)) << "forward";

  const Tensor grad_out = values_as(index.shape(), dtype, 731);
  Tensor gx = values_as(x.shape(), dtype, 732);
  Tensor gx_gpu = on_gpu(gx);
  cpu::gather_backward(grad_out, dim, index, gx);
  cuda::gather_backward(on_gpu(grad_out), dim, index_gpu, gx_gpu);
  EXPECT_TRUE(gpu_equal(gx_gpu, gx)) << "backward";
}

// An index of `shape` with values in [0, size) from a seed, repeats likely.
Tensor random_index(const Shape& shape, int64_t size, uint64_t seed) {
  return rand_as(shape, DType::Float64, seed, 0.0, double(size)).to(DType::Int64);
}

TEST_F(IndexGpu, GatherMatchesCpuAlongEveryDim) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : all_dtypes()) {
    const Tensor x = values_as({4, 5, 6}, dtype, 741);
    check_gather(x, 0, random_index({7, 5, 6}, 4, 742));  // longer than x along dim
    check_gather(x, 1, random_index({3, 2, 4}, 5, 743));  // smaller elsewhere
    check_gather(x, 2, random_index({4, 5, 9}, 6, 744));
    check_gather(x, 2, random_index({4, 5, 1}, 6, 745));  // the max-reduction backward's shape
    check_gather(x, 1, random_index({0, 5, 6}, 5, 746));  // empty
  }
}

TEST_F(IndexGpu, GatherWalksStridedOperandsAndZeroDims) {
  MASKDET_REQUIRE_GPU();
  // Transposed views of x and of the index on the GPU too (on_gpu alone would make them dense).
  const Tensor x_base = randn_as({6, 5}, DType::Float32, 751), index_base = random_index({7, 3}, 5, 752);
  const Tensor x = x_base.transpose(0, 1), index = index_base.transpose(0, 1);  // (5, 6), (3, 7)
  const Tensor x_gpu = on_gpu(x_base).transpose(0, 1), index_gpu = on_gpu(index_base).transpose(0, 1);
  ASSERT_FALSE(x_gpu.is_contiguous());
  ASSERT_FALSE(index_gpu.is_contiguous());
  check_gather(x, 1, random_index({5, 4}, 6, 753), x_gpu);
  check_gather(randn_as({5, 7}, DType::Float32, 754), 0, index, Tensor(), index_gpu);
  check_gather(x, 0, index.slice(1, 0, 6), x_gpu, index_gpu.slice(1, 0, 6));
  // A strided grad_x view (every other column of a wider buffer) in the backward.
  {
    const Tensor index2 = random_index({4, 3}, 3, 755);
    const Tensor grad_out = randn_as({4, 3}, DType::Float64, 756);
    Tensor wide = values_as({4, 6}, DType::Float64, 757);
    Tensor wide_gpu = on_gpu(wide);
    cpu::gather_backward(grad_out, 1, index2, wide.slice(1, 0, 6, 2));
    cuda::gather_backward(on_gpu(grad_out), 1, on_gpu(index2), wide_gpu.slice(1, 0, 6, 2));
    EXPECT_TRUE(gpu_equal(wide_gpu, wide)) << "strided grad_x; the other columns untouched";
  }
  // 0-dim: x and index are scalars.
  for (DType dtype : {DType::Float32, DType::Int64}) check_gather(values_as({}, dtype, 758), 0, index_of({0}, {}));
}

// index_select: both backends name the first bad value and its position the same way, and
// nothing is written.
TEST_F(IndexGpu, IndexSelectOutOfRangeRaisesTheCpuError) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = randn_as({5, 3}, DType::Float32, 761);
  for (const std::vector<int64_t>& bad : {std::vector<int64_t>{0, 2, 5, 1, -1}, std::vector<int64_t>{-3, 0, 9}}) {
    const Tensor index = index_of(bad, {int64_t(bad.size())});
    Tensor out = empty({index.size(0), 3}, TensorOptions{});
    const std::string cpu_message = error_message([&] { cpu::index_select_forward(x, 0, index, out); });
    Tensor out_gpu = on_gpu(zeros({index.size(0), 3}));
    const std::string gpu_message =
        error_message([&] { cuda::index_select_forward(on_gpu(x), 0, on_gpu(index), out_gpu); });
    ASSERT_FALSE(cpu_message.empty());
    EXPECT_EQ(without_location(gpu_message), without_location(cpu_message));
    EXPECT_TRUE(gpu_equal(out_gpu, zeros({index.size(0), 3})));

    Tensor gx_gpu = on_gpu(ones({5, 3}));
    const std::string backward_message = error_message(
        [&] { cuda::index_select_backward(on_gpu(zeros({index.size(0), 3})), 0, on_gpu(index), gx_gpu); });
    EXPECT_NE(backward_message.find("index_select_backward: index " + std::to_string(bad[bad[0] < 0 ? 0 : 2])),
              std::string::npos)
        << backward_message;
    EXPECT_TRUE(gpu_equal(gx_gpu, ones({5, 3})));
  }
}

// gather: the first bad position in row-major order of a 2-D index, as the CPU reports it.
TEST_F(IndexGpu, GatherOutOfRangeRaisesTheCpuError) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = randn_as({3, 4}, DType::Float64, 771);
  const Tensor index = index_of({0, 1, 2, 3, 1, 7, 0, 4, 2, 2, -5, 0}, {3, 4});
  Tensor out = empty({3, 4}, TensorOptions{}.with_dtype(DType::Float64));
  const std::string cpu_message = error_message([&] { cpu::gather_forward(x, 1, index, out); });
  const std::string gpu_message =
      error_message([&] { cuda::gather_forward(on_gpu(x), 1, on_gpu(index), empty_gpu({3, 4}, DType::Float64)); });
  ASSERT_NE(cpu_message.find("index 7 at position (1, 1)"), std::string::npos) << cpu_message;
  EXPECT_EQ(without_location(gpu_message), without_location(cpu_message));
  // The transposed index: row-major order of the view, not of memory.
  // (4, 3): its first bad element in the view's row-major order is 7 at (1, 1); in memory order
  // 3 at (3, 0) would come first.
  const Tensor transposed = index.transpose(0, 1);
  Tensor out_t = empty({4, 3}, TensorOptions{}.with_dtype(DType::Float64));
  const Tensor xt = randn_as({4, 3}, DType::Float64, 772);
  const std::string cpu_t = error_message([&] { cpu::gather_forward(xt, 1, transposed, out_t); });
  const std::string gpu_t = error_message(
      [&] { cuda::gather_forward(on_gpu(xt), 1, on_gpu(index).transpose(0, 1), empty_gpu({4, 3}, DType::Float64)); });
  ASSERT_FALSE(cpu_t.empty());
  EXPECT_EQ(without_location(gpu_t), without_location(cpu_t));
}

}  // namespace
}  // namespace maskdet::test
