// CPU-vs-CUDA tests of 2-D max pooling (cuda/kernels/pool.cu): the forward's values and argmax
// indices exactly (ties, NaN, padding, ceil_mode), the atomic backward at 1e-6 relative in
// float32 (the order of up to four adds into one pixel may vary) and 1e-12 in float64.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gpu_nn_test_util.h"
#include "tensor/kernels/pool.h"

namespace maskdet::test {
namespace {

using MaxPoolGpu = GpuNnTest;

TensorOptions cpu_of(DType dtype) { return TensorOptions{}.with_dtype(dtype); }

struct PoolCase {
  std::string name;
  Shape x;
  Pool2dWindow window;
};

Shape out_shape(const Shape& x, const Pool2dWindow& w) {
  return {x[0], x[1], pool_output_size(x[2], w.kernel_h, w.stride_h, w.pad_h, w.ceil_mode),
          pool_output_size(x[3], w.kernel_w, w.stride_w, w.pad_w, w.ceil_mode)};
}

void check_pool(const PoolCase& k, const Tensor& x) {
  const DType dtype = x.dtype();
  SCOPED_TRACE(k.name + " " + dtype_name(dtype));
  const Shape os = out_shape(k.x, k.window);
  Tensor out = empty(os, cpu_of(dtype)), idx = empty(os, cpu_of(DType::Int64));
  cpu::max_pool2d_forward(x, out, idx, k.window);
  Tensor out_gpu = empty_gpu(os, dtype), idx_gpu = empty_gpu(os, DType::Int64);
  cuda::max_pool2d_forward(on_gpu(x), out_gpu, idx_gpu, k.window);
  EXPECT_TRUE(gpu_equal(out_gpu, out)) << "forward values";
  EXPECT_TRUE(gpu_equal(idx_gpu, idx)) << "argmax indices";

  const Tensor grad_out = randn_as(os, dtype, 501);
  Tensor gx = empty(k.x, cpu_of(dtype));
  cpu::max_pool2d_backward(grad_out, idx, gx);
  Tensor gx_gpu = on_gpu(full(k.x, 4.0, cpu_of(dtype)));  // must be overwritten
  cuda::max_pool2d_backward(on_gpu(grad_out), idx_gpu, gx_gpu);
  EXPECT_TRUE(gpu_near(gx_gpu, gx, dtype == DType::Float32 ? 1e-6 : 1e-12)) << "backward";
}

Pool2dWindow window(int64_t k, int64_t s, int64_t p, bool ceil_mode = false) { return {k, k, s, s, p, p, ceil_mode}; }

std::vector<PoolCase> cases() {
  return {
      {"2x2 stride 2", {2, 3, 8, 10}, window(2, 2, 0)},
      {"3x3 stride 2 pad 1 (ResNet)", {2, 4, 17, 15}, window(3, 2, 1)},
      {"3x3 stride 1 pad 1 (heavy overlap)", {1, 3, 9, 7}, window(3, 1, 1)},
      {"ceil_mode odd sizes", {2, 2, 9, 11}, window(2, 2, 0, true)},
      {"ceil_mode with padding", {1, 3, 10, 13}, window(3, 2, 1, true)},
      {"ceil_mode last window dropped", {1, 2, 5, 5}, window(2, 2, 1, true)},
      {"non-square", {2, 2, 12, 9}, {2, 3, 1, 2, 1, 0, false}},
      {"window as large as the input", {3, 2, 4, 5}, {4, 5, 1, 1, 0, 0, false}},
      {"RetinaNet-sized plane", {2, 64, 100, 76}, window(3, 2, 1)},
  };
}

TEST_F(MaxPoolGpu, MatchesCpuOnRandomInputs) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64})
    for (const PoolCase& k : cases()) check_pool(k, randn_as(k.x, dtype, 502));
}

// Many equal values: the argmax must be the first maximum in window order on both backends.
TEST_F(MaxPoolGpu, TiesPickTheFirstMaximum) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const Tensor x = (rand_as({2, 3, 11, 12}, dtype, 503, 0.0, 3.0)).to(DType::Int64).to(dtype);
    check_pool({"ties 3x3 s1 p1", {2, 3, 11, 12}, window(3, 1, 1)}, x);
    check_pool({"ties 2x2 s2 ceil", {2, 3, 11, 12}, window(2, 2, 0, true)}, x);
  }
}

// A NaN in a window wins, as in PyTorch, and padding counts as -inf even when every real value
// is very negative.
TEST_F(MaxPoolGpu, NanWinsAndPaddingIsMinusInfinity) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64}) {
    std::vector<double> values(2 * 6 * 7);
    for (size_t i = 0; i < values.size(); ++i) values[i] = -1e30 - double(i);
    values[9] = std::numeric_limits<double>::quiet_NaN();
    values[50] = std::numeric_limits<double>::quiet_NaN();
    values[51] = 5.0;  // after a NaN in the same window: the NaN stays
    const Tensor x = from_vector<double>(values, {1, 2, 6, 7}, cpu_of(dtype));
    check_pool({"nan", {1, 2, 6, 7}, window(3, 2, 1)}, x);
    check_pool({"nan overlap", {1, 2, 6, 7}, window(2, 1, 1)}, x);
  }
}

TEST_F(MaxPoolGpu, EmptyBatch) {
  MASKDET_REQUIRE_GPU();
  const Pool2dWindow w = window(2, 2, 0);
  Tensor out = empty_gpu({0, 3, 4, 4}, DType::Float32), idx = empty_gpu({0, 3, 4, 4}, DType::Int64);
  cuda::max_pool2d_forward(empty_gpu({0, 3, 8, 8}, DType::Float32), out, idx, w);
  Tensor gx = empty_gpu({0, 3, 8, 8}, DType::Float32);
  cuda::max_pool2d_backward(out, idx, gx);
  EXPECT_EQ(gx.numel(), 0);
}

TEST_F(MaxPoolGpu, RejectsWhatTheCpuRejects) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = on_gpu(randn_as({1, 2, 6, 6}, DType::Float32, 511));
  Tensor out = empty_gpu({1, 2, 2, 2}, DType::Float32), idx = empty_gpu({1, 2, 3, 3}, DType::Int64);
  EXPECT_ERROR_CONTAINS(cuda::max_pool2d_forward(x, out, idx, window(2, 2, 0)), "out has shape");
  Tensor out3 = empty_gpu({1, 2, 3, 3}, DType::Float32), idx32 = empty_gpu({1, 2, 3, 3}, DType::Float32);
  EXPECT_ERROR_CONTAINS(cuda::max_pool2d_forward(x, out3, idx32, window(2, 2, 0)), "indices must be int64");
}

}  // namespace
}  // namespace maskdet::test
