// CPU-vs-CUDA tests of the cuDNN batch norm (cuda/kernels/batch_norm.cu): training forward with
// the saved statistics and the running-statistics update (unbiased variance, momentum as
// cuDNN's exponential average factor), inference forward, and the backward, for 2-D and 4-D
// inputs, with and without affine parameters or running statistics, float32 (1e-4) and float64
// (1e-10). eps is 0.1 throughout, far from the usual 1e-5, and the backwards get the forward's
// (as cuDNN asks), so a backward that got or used another epsilon would fail here.
#include <string>
#include <vector>

#include "gpu_nn_test_util.h"
#include "tensor/kernels/batch_norm.h"

namespace maskdet::test {
namespace {

using BatchNormGpu = GpuNnTest;

constexpr double kEps = 0.1;
constexpr double kMomentum = 0.3;

struct Options {
  bool affine = true;
  bool running_mean = true;
  bool running_var = true;
};

TensorOptions cpu_of(DType dtype) { return TensorOptions{}.with_dtype(dtype); }

// Training forward then backward on both backends, comparing every output and the updated
// running statistics.
void check_training(const Shape& shape, DType dtype, const Options& o) {
  SCOPED_TRACE(shape_str(shape) + " " + dtype_name(dtype) + (o.affine ? " affine" : " no affine") +
               (o.running_mean ? " running_mean" : "") + (o.running_var ? " running_var" : ""));
  const double rel = tolerance(dtype);
  const int64_t c = shape[1];
  // An offset mean and a scale away from 1 so that normalising does something.
  const Tensor x = randn_as(shape, dtype, 101, 2.5) + 1.5;
  const Tensor weight = o.affine ? randn_as({c}, dtype, 102) : Tensor();
  const Tensor bias = o.affine ? randn_as({c}, dtype, 103) : Tensor();
  const Tensor rm = o.running_mean ? randn_as({c}, dtype, 104) : Tensor();
  const Tensor rv = o.running_var ? rand_as({c}, dtype, 105, 0.5, 2.0) : Tensor();
  const Tensor rm_gpu = o.running_mean ? on_gpu(rm.clone()) : Tensor();
  const Tensor rv_gpu = o.running_var ? on_gpu(rv.clone()) : Tensor();
  const auto gpu_or_none = [](const Tensor& t) { return t.defined() ? on_gpu(t) : Tensor(); };

  Tensor out = empty(shape, cpu_of(dtype)), mean = empty({c}, cpu_of(dtype)), invstd = empty({c}, cpu_of(dtype));
  cpu::batch_norm_forward_training(x, weight, bias, rm, rv, kMomentum, kEps, out, mean, invstd);
  Tensor out_gpu = empty_gpu(shape, dtype), mean_gpu = empty_gpu({c}, dtype), invstd_gpu = empty_gpu({c}, dtype);
  cuda::batch_norm_forward_training(on_gpu(x), gpu_or_none(weight), gpu_or_none(bias), rm_gpu, rv_gpu, kMomentum,
                                    kEps, out_gpu, mean_gpu, invstd_gpu);
  EXPECT_TRUE(gpu_near(out_gpu, out, rel)) << "out";
  EXPECT_TRUE(gpu_near(mean_gpu, mean, rel)) << "save_mean";
  EXPECT_TRUE(gpu_near(invstd_gpu, invstd, rel)) << "save_invstd";
  if (o.running_mean) {
    EXPECT_TRUE(gpu_near(rm_gpu, rm, rel)) << "running_mean";
  }
  if (o.running_var) {
    EXPECT_TRUE(gpu_near(rv_gpu, rv, rel)) << "running_var (unbiased batch variance)";
  }

  // Each backend's backward gets its own forward's saved statistics, as in a real step.
  const Tensor grad_out = randn_as(shape, dtype, 106);
  Tensor gx = empty(shape, cpu_of(dtype)), gw = empty({c}, cpu_of(dtype)), gb = empty({c}, cpu_of(dtype));
  cpu::batch_norm_backward(grad_out, x, weight, mean, invstd, kEps, gx, gw, gb);
  Tensor gx_gpu = empty_gpu(shape, dtype), gw_gpu = empty_gpu({c}, dtype), gb_gpu = empty_gpu({c}, dtype);
  cuda::batch_norm_backward(on_gpu(grad_out), on_gpu(x), gpu_or_none(weight), mean_gpu, invstd_gpu, kEps, gx_gpu,
                            gw_gpu, gb_gpu);
  EXPECT_TRUE(gpu_near(gx_gpu, gx, rel)) << "grad_x";
  EXPECT_TRUE(gpu_near(gw_gpu, gw, rel)) << "grad_weight";
  EXPECT_TRUE(gpu_near(gb_gpu, gb, rel)) << "grad_bias";

  // Only some gradients wanted: the others are undefined and the wanted ones still right.
  Tensor gx_only = empty_gpu(shape, dtype);
  cuda::batch_norm_backward(on_gpu(grad_out), on_gpu(x), gpu_or_none(weight), mean_gpu, invstd_gpu, kEps,
                            gx_only, Tensor(), Tensor());
  EXPECT_TRUE(gpu_near(gx_only, gx, rel)) << "grad_x alone";
  Tensor gw_only = empty_gpu({c}, dtype), gb_only = empty_gpu({c}, dtype);
  cuda::batch_norm_backward(on_gpu(grad_out), on_gpu(x), gpu_or_none(weight), mean_gpu, invstd_gpu, kEps,
                            Tensor(), gw_only, gb_only);
  EXPECT_TRUE(gpu_near(gw_only, gw, rel)) << "grad_weight without grad_x";
  EXPECT_TRUE(gpu_near(gb_only, gb, rel)) << "grad_bias without grad_x";
}

void check_inference(const Shape& shape, DType dtype, bool affine) {
  SCOPED_TRACE(shape_str(shape) + " " + dtype_name(dtype) + (affine ? " affine" : " no affine"));
  const int64_t c = shape[1];
  const Tensor x = randn_as(shape, dtype, 201, 2.0) - 0.5;
  const Tensor weight = affine ? randn_as({c}, dtype, 202) : Tensor();
  const Tensor bias = affine ? randn_as({c}, dtype, 203) : Tensor();
  const Tensor rm = randn_as({c}, dtype, 204);
  const Tensor rv = rand_as({c}, dtype, 205, 0.2, 3.0);
  Tensor out = empty(shape, cpu_of(dtype));
  cpu::batch_norm_forward_inference(x, weight, bias, rm, rv, kEps, out);
  Tensor out_gpu = empty_gpu(shape, dtype);
  cuda::batch_norm_forward_inference(on_gpu(x), affine ? on_gpu(weight) : Tensor(), affine ? on_gpu(bias) : Tensor(),
                                     on_gpu(rm), on_gpu(rv), kEps, out_gpu);
  EXPECT_TRUE(gpu_near(out_gpu, out, tolerance(dtype)));
}

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> s{{4, 5, 7, 6}, {17, 9}, {2, 3, 1, 1}, {3, 4, 11}, {8, 64, 16, 16}};
  return s;
}

TEST_F(BatchNormGpu, TrainingMatchesCpuWithAffineAndRunningStats) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64})
    for (const Shape& shape : shapes()) check_training(shape, dtype, {});
}

TEST_F(BatchNormGpu, TrainingMatchesCpuWithoutAffineOrRunningStats) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64})
    for (const Shape& shape : shapes()) check_training(shape, dtype, {false, false, false});
}

// cuDNN takes both running buffers or neither; a lone one must still be updated.
TEST_F(BatchNormGpu, TrainingUpdatesALoneRunningBuffer) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64}) {
    check_training({5, 3, 4, 4}, dtype, {true, true, false});
    check_training({6, 7}, dtype, {false, false, true});
  }
}

TEST_F(BatchNormGpu, InferenceMatchesCpu) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64})
    for (const Shape& shape : shapes())
      for (bool affine : {true, false}) check_inference(shape, dtype, affine);
  check_inference({1, 6}, DType::Float32, true);  // a single sample is fine in eval
}

// Momentum 1 replaces the running statistics by the batch's: the running variance is then
// exactly the unbiased batch variance, checked against one computed here.
TEST_F(BatchNormGpu, MomentumOneStoresTheUnbiasedBatchVariance) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = from_vector<double>({1, 2, 4, 7, -3, 5}, {3, 2}, {DType::Float64});
  const Tensor rm = on_gpu(zeros({2}, {DType::Float64})), rv = on_gpu(ones({2}, {DType::Float64}));
  Tensor out = empty_gpu({3, 2}, DType::Float64), mean = empty_gpu({2}, DType::Float64);
  Tensor invstd = empty_gpu({2}, DType::Float64);
  cuda::batch_norm_forward_training(on_gpu(x), Tensor(), Tensor(), rm, rv, 1.0, kEps, out, mean, invstd);
  // Channel 0: 1, 4, -3 (mean 2/3); channel 1: 2, 7, 5 (mean 14/3).
  const double var0 = ((1 - 2.0 / 3) * (1 - 2.0 / 3) + (4 - 2.0 / 3) * (4 - 2.0 / 3) + (-3 - 2.0 / 3) * (-3 - 2.0 / 3));
  const double var1 = ((2 - 14.0 / 3) * (2 - 14.0 / 3) + (7 - 14.0 / 3) * (7 - 14.0 / 3) + (5 - 14.0 / 3) * (5 - 14.0 / 3));
  EXPECT_TRUE(gpu_near(rm, from_vector<double>({2.0 / 3, 14.0 / 3}, {2}, {DType::Float64}), kF64));
  EXPECT_TRUE(gpu_near(rv, from_vector<double>({var0 / 2, var1 / 2}, {2}, {DType::Float64}), kF64));
  EXPECT_TRUE(gpu_near(invstd, from_vector<double>({1 / std::sqrt(var0 / 3 + kEps), 1 / std::sqrt(var1 / 3 + kEps)},
                                                   {2}, {DType::Float64}),
                       kF64));
}

// An empty batch in the backward: grad_x has no elements, the parameter gradients are zero sums.
TEST_F(BatchNormGpu, BackwardOfEmptyBatchGivesZeroParameterGradients) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const Tensor x = empty_gpu({0, 3, 4, 4}, dtype);
    Tensor gw = on_gpu(full({3}, 9.0, cpu_of(dtype))), gb = on_gpu(full({3}, 9.0, cpu_of(dtype)));
    cuda::batch_norm_backward(x, x, on_gpu(ones({3}, cpu_of(dtype))), on_gpu(zeros({3}, cpu_of(dtype))),
                              on_gpu(ones({3}, cpu_of(dtype))), kEps, empty_gpu({0, 3, 4, 4}, dtype), gw, gb);
    EXPECT_TRUE(gpu_equal(gw, zeros({3}, cpu_of(dtype))));
    EXPECT_TRUE(gpu_equal(gb, zeros({3}, cpu_of(dtype))));
    Tensor out = empty_gpu({0, 3, 4, 4}, dtype);
    cuda::batch_norm_forward_inference(x, Tensor(), Tensor(), on_gpu(zeros({3}, cpu_of(dtype))),
                                       on_gpu(ones({3}, cpu_of(dtype))), kEps, out);
  }
}

TEST_F(BatchNormGpu, RejectsWhatTheCpuRejects) {
  MASKDET_REQUIRE_GPU();
  const Tensor one_value = on_gpu(randn_as({1, 3}, DType::Float32, 301));
  Tensor out = empty_gpu({1, 3}, DType::Float32), m = empty_gpu({3}, DType::Float32), s = empty_gpu({3}, DType::Float32);
  EXPECT_ERROR_CONTAINS(cuda::batch_norm_forward_training(one_value, Tensor(), Tensor(), Tensor(), Tensor(), 0.1,
                                                          1e-5, out, m, s),
                        "more than one value per channel");
  const Tensor x = on_gpu(randn_as({4, 3}, DType::Float32, 302));
  Tensor out4 = empty_gpu({4, 3}, DType::Float32);
  EXPECT_ERROR_CONTAINS(cuda::batch_norm_forward_training(x, empty_gpu({4}, DType::Float32), Tensor(), Tensor(),
                                                          Tensor(), 0.1, 1e-5, out4, m, s),
                        "weight has shape");
  EXPECT_ERROR_CONTAINS(cuda::batch_norm_forward_inference(x, Tensor(), Tensor(), on_cpu(m), s, 1e-5, out4),
                        "running_mean is on cpu");
  // The backward checks the epsilon it hands cuDNN as the forwards do.
  EXPECT_ERROR_CONTAINS(cuda::batch_norm_backward(x, x, Tensor(), m, s, -1.0, out4, Tensor(), Tensor()),
                        "batch_norm_backward: eps -1 is below cuDNN's minimum");
}

}  // namespace
}  // namespace maskdet::test
