// CPU-vs-CUDA tests of nearest-neighbour upsampling (cuda/kernels/upsample.cu). Both directions
// must equal the CPU exactly: the forward copies the same source pixels (PyTorch's index rule,
// float32 ratio included), the gathering backward adds the same values in the CPU's order.
#include <cmath>
#include <string>
#include <vector>

#include "gpu_nn_test_util.h"
#include "tensor/kernels/upsample.h"

namespace maskdet::test {
namespace {

using UpsampleNearestGpu = GpuNnTest;

struct UpsampleCase {
  std::string name;
  Shape x;
  int64_t out_h, out_w;
  double scale_h, scale_w;  // 0 when the output size was given
};

void check_upsample(const UpsampleCase& k, DType dtype) {
  SCOPED_TRACE(k.name + " " + dtype_name(dtype));
  const TensorOptions opts = TensorOptions{}.with_dtype(dtype);
  const Shape os{k.x[0], k.x[1], k.out_h, k.out_w};
  const Tensor x = randn_as(k.x, dtype, 601);
  Tensor out = empty(os, opts);
  cpu::upsample_nearest2d_forward(x, out, k.scale_h, k.scale_w);
  Tensor out_gpu = empty_gpu(os, dtype);
  cuda::upsample_nearest2d_forward(on_gpu(x), out_gpu, k.scale_h, k.scale_w);
  EXPECT_TRUE(gpu_equal(out_gpu, out)) << "forward";

  const Tensor grad_out = randn_as(os, dtype, 602);
  Tensor gx = empty(k.x, opts);
  cpu::upsample_nearest2d_backward(grad_out, gx, k.scale_h, k.scale_w);
  Tensor gx_gpu = on_gpu(full(k.x, 3.0, opts));  // must be overwritten
  cuda::upsample_nearest2d_backward(on_gpu(grad_out), gx_gpu, k.scale_h, k.scale_w);
  EXPECT_TRUE(gpu_equal(gx_gpu, gx)) << "backward";
}

std::vector<UpsampleCase> cases() {
  const auto by_scale = [](std::string name, Shape x, double s) {
    const int64_t oh = static_cast<int64_t>(std::floor(x[2] * s)), ow = static_cast<int64_t>(std::floor(x[3] * s));
    return UpsampleCase{std::move(name), x, oh, ow, s, s};
  };
  return {
      by_scale("x2 (FPN)", {2, 3, 5, 7}, 2.0),
      by_scale("x2 odd plane", {1, 4, 13, 1}, 2.0),
      by_scale("x3", {2, 2, 4, 5}, 3.0),
      by_scale("x1.7", {1, 3, 9, 11}, 1.7),
      by_scale("x0.6 (downsampling skips rows)", {1, 2, 10, 13}, 0.6),
      {"size 5x7 -> 12x9", {2, 3, 5, 7}, 12, 9, 0, 0},
      {"size 7x9 -> 3x4", {1, 2, 7, 9}, 3, 4, 0, 0},
      {"size 6x6 -> 6x13 (one axis equal)", {2, 1, 6, 6}, 6, 13, 0, 0},
      {"size 25x19 -> 50x38 (RetinaNet P5 -> P4)", {2, 16, 25, 19}, 50, 38, 0, 0},
      {"size 3x3 -> 100x100", {1, 1, 3, 3}, 100, 100, 0, 0},
  };
}

TEST_F(UpsampleNearestGpu, MatchesCpuExactly) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64})
    for (const UpsampleCase& k : cases()) check_upsample(k, dtype);
}

TEST_F(UpsampleNearestGpu, EmptyBatch) {
  MASKDET_REQUIRE_GPU();
  Tensor out = empty_gpu({0, 3, 8, 8}, DType::Float32);
  cuda::upsample_nearest2d_forward(empty_gpu({0, 3, 4, 4}, DType::Float32), out, 2.0, 2.0);
  Tensor gx = empty_gpu({0, 3, 4, 4}, DType::Float32);
  cuda::upsample_nearest2d_backward(out, gx, 2.0, 2.0);
  EXPECT_EQ(gx.numel(), 0);
}

TEST_F(UpsampleNearestGpu, RejectsWhatTheCpuRejects) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = on_gpu(randn_as({1, 2, 3, 3}, DType::Float32, 611));
  EXPECT_ERROR_CONTAINS(cuda::upsample_nearest2d_forward(x, empty_gpu({1, 3, 6, 6}, DType::Float32), 2.0, 2.0),
                        "expected (N, C, H, W) and (N, C, OH, OW)");
  EXPECT_ERROR_CONTAINS(cuda::upsample_nearest2d_forward(x, empty_gpu({1, 2, 6, 6}, DType::Float64), 2.0, 2.0),
                        "dtypes differ");
}

}  // namespace
}  // namespace maskdet::test
