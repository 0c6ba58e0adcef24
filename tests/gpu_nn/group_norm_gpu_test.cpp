// CPU-vs-CUDA tests of group norm (cuda/kernels/group_norm.cu): forward (output and saved
// statistics) and backward, one group to one group per channel, 2-D to 4-D inputs, large groups
// that loop inside a block, with and without affine parameters, float32 (1e-4) and float64
// (1e-10); bit-for-bit repeatability; empty batches.
#include <string>
#include <vector>

#include "gpu_nn_test_util.h"
#include "tensor/kernels/group_norm.h"

namespace maskdet::test {
namespace {

using GroupNormGpu = GpuNnTest;

TensorOptions cpu_of(DType dtype) { return TensorOptions{}.with_dtype(dtype); }

struct GroupCase {
  Shape shape;
  int64_t groups;
  double eps;
};

void check_group_norm(const GroupCase& k, DType dtype, bool affine) {
  SCOPED_TRACE(shape_str(k.shape) + " groups " + std::to_string(k.groups) + " " + dtype_name(dtype) +
               (affine ? " affine" : " no affine"));
  const double rel = tolerance(dtype);
  const int64_t n = k.shape[0], c = k.shape[1];
  const Tensor x = randn_as(k.shape, dtype, 401, 3.0) + 2.0;
  const Tensor weight = affine ? randn_as({c}, dtype, 402) : Tensor();
  const Tensor bias = affine ? randn_as({c}, dtype, 403) : Tensor();
  const auto gpu_or_none = [](const Tensor& t) { return t.defined() ? on_gpu(t) : Tensor(); };

  Tensor out = empty(k.shape, cpu_of(dtype)), mean = empty({n, k.groups}, cpu_of(dtype));
  Tensor rstd = empty({n, k.groups}, cpu_of(dtype));
  cpu::group_norm_forward(x, weight, bias, k.groups, k.eps, out, mean, rstd);
  Tensor out_gpu = empty_gpu(k.shape, dtype), mean_gpu = empty_gpu({n, k.groups}, dtype);
  Tensor rstd_gpu = empty_gpu({n, k.groups}, dtype);
  cuda::group_norm_forward(on_gpu(x), gpu_or_none(weight), gpu_or_none(bias), k.groups, k.eps, out_gpu, mean_gpu,
                           rstd_gpu);
  EXPECT_TRUE(gpu_near(out_gpu, out, rel)) << "out";
  EXPECT_TRUE(gpu_near(mean_gpu, mean, rel)) << "save_mean";
  EXPECT_TRUE(gpu_near(rstd_gpu, rstd, rel)) << "save_rstd";

  const Tensor grad_out = randn_as(k.shape, dtype, 404);
  Tensor gx = empty(k.shape, cpu_of(dtype)), gw = empty({c}, cpu_of(dtype)), gb = empty({c}, cpu_of(dtype));
  cpu::group_norm_backward(grad_out, x, weight, mean, rstd, k.groups, gx, gw, gb);
  Tensor gx_gpu = empty_gpu(k.shape, dtype), gw_gpu = empty_gpu({c}, dtype), gb_gpu = empty_gpu({c}, dtype);
  cuda::group_norm_backward(on_gpu(grad_out), on_gpu(x), gpu_or_none(weight), mean_gpu, rstd_gpu, k.groups, gx_gpu,
                            gw_gpu, gb_gpu);
  EXPECT_TRUE(gpu_near(gx_gpu, gx, rel)) << "grad_x";
  EXPECT_TRUE(gpu_near(gw_gpu, gw, rel)) << "grad_weight";
  EXPECT_TRUE(gpu_near(gb_gpu, gb, rel)) << "grad_bias";

  Tensor gx_only = empty_gpu(k.shape, dtype);
  cuda::group_norm_backward(on_gpu(grad_out), on_gpu(x), gpu_or_none(weight), mean_gpu, rstd_gpu, k.groups, gx_only,
                            Tensor(), Tensor());
  EXPECT_TRUE(gpu_near(gx_only, gx, rel)) << "grad_x alone";
  Tensor gb_only = empty_gpu({c}, dtype);
  cuda::group_norm_backward(on_gpu(grad_out), on_gpu(x), gpu_or_none(weight), mean_gpu, rstd_gpu, k.groups, Tensor(),
                            Tensor(), gb_only);
  EXPECT_TRUE(gpu_near(gb_only, gb, rel)) << "grad_bias alone";
}

const std::vector<GroupCase>& cases() {
  static const std::vector<GroupCase> c{
      {{3, 6, 5, 7}, 3, 1e-5},    {{3, 6, 5, 7}, 1, 1e-5},     {{3, 6, 5, 7}, 6, 1e-3},
      {{4, 8}, 2, 1e-5},          {{2, 12, 9}, 4, 0.1},        {{1, 5, 1, 1}, 5, 1e-5},
      {{2, 32, 40, 40}, 8, 1e-5},  // 6400 values per group: every thread loops
      {{2, 256, 13, 17}, 32, 1e-5},  // RetinaNet's head: GroupNorm(32, 256)
  };
  return c;
}

TEST_F(GroupNormGpu, MatchesCpuWithAffine) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64})
    for (const GroupCase& k : cases()) check_group_norm(k, dtype, true);
}

TEST_F(GroupNormGpu, MatchesCpuWithoutAffine) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64})
    for (const GroupCase& k : cases()) check_group_norm(k, dtype, false);
}

// No atomics anywhere: two runs agree bit for bit.
TEST_F(GroupNormGpu, RepeatsBitForBit) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = on_gpu(randn_as({2, 16, 21, 19}, DType::Float32, 411));
  const Tensor g = on_gpu(randn_as({2, 16, 21, 19}, DType::Float32, 412));
  const Tensor w = on_gpu(randn_as({16}, DType::Float32, 413));
  Tensor results[2][3];
  for (auto& r : results) {
    Tensor out = empty_gpu(x.shape(), DType::Float32), mean = empty_gpu({2, 4}, DType::Float32);
    Tensor rstd = empty_gpu({2, 4}, DType::Float32);
    cuda::group_norm_forward(x, w, Tensor(), 4, 1e-5, out, mean, rstd);
    r[0] = out;
    r[1] = empty_gpu(x.shape(), DType::Float32);
    r[2] = empty_gpu({16}, DType::Float32);
    cuda::group_norm_backward(g, x, w, mean, rstd, 4, r[1], r[2], Tensor());
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(gpu_equal(results[0][i], on_cpu(results[1][i]))) << i;
}

TEST_F(GroupNormGpu, EmptyBatch) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const Tensor x = empty_gpu({0, 4, 3, 3}, dtype);
    Tensor out = empty_gpu({0, 4, 3, 3}, dtype), mean = empty_gpu({0, 2}, dtype), rstd = empty_gpu({0, 2}, dtype);
    cuda::group_norm_forward(x, Tensor(), Tensor(), 2, 1e-5, out, mean, rstd);
    Tensor gw = on_gpu(full({4}, 3.0, cpu_of(dtype))), gb = on_gpu(full({4}, 3.0, cpu_of(dtype)));
    cuda::group_norm_backward(x, x, Tensor(), mean, rstd, 2, empty_gpu({0, 4, 3, 3}, dtype), gw, gb);
    EXPECT_TRUE(gpu_equal(gw, zeros({4}, cpu_of(dtype))));
    EXPECT_TRUE(gpu_equal(gb, zeros({4}, cpu_of(dtype))));
  }
}

TEST_F(GroupNormGpu, RejectsWhatTheCpuRejects) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = on_gpu(randn_as({2, 6, 3}, DType::Float32, 421));
  Tensor out = empty_gpu({2, 6, 3}, DType::Float32), mean = empty_gpu({2, 4}, DType::Float32);
  Tensor rstd = empty_gpu({2, 4}, DType::Float32);
  EXPECT_ERROR_CONTAINS(cuda::group_norm_forward(x, Tensor(), Tensor(), 4, 1e-5, out, mean, rstd),
                        "num_groups (4) must divide the 6 channels");
  EXPECT_ERROR_CONTAINS(cuda::group_norm_forward(x, Tensor(), Tensor(), 3, 1e-5, out, mean, rstd),
                        "save_mean has shape");
}

}  // namespace
}  // namespace maskdet::test
