// CPU-vs-CUDA tests of the cuDNN convolution (cuda/kernels/conv2d.cu, cuda/cudnn_conv_plan.h):
// forward (with and without bias) and both backward passes at the configurations RetinaNet and
// ResNet use and at awkward ones, in float32 (no TF32, 1e-4) and float64 (1e-10); TF32 at 1e-2;
// the timed-search, deterministic-only and zero-workspace ways of choosing an algorithm; empty
// batches.
#include <cmath>
#include <string>
#include <vector>

#include "cuda/cudnn_conv_plan.h"
#include "gpu_nn_test_util.h"
#include "tensor/kernels/conv2d.h"

namespace maskdet::test {
namespace {

using Conv2dGpu = GpuNnTest;

struct ConvCase {
  std::string name;
  int64_t n, c, h, w, o, kh, kw;
  Conv2dParams params;
  bool bias = true;
};

Conv2dParams params_of(int64_t stride, int64_t pad, int64_t dilation = 1, int64_t groups = 1) {
  Conv2dParams p;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = pad;
  p.dilation_h = p.dilation_w = dilation;
  p.groups = groups;
  return p;
}

// Runs the three kernels on both backends from the same inputs and compares each result.
void check_conv(const ConvCase& k, DType dtype, double rel) {
  SCOPED_TRACE(k.name + " " + dtype_name(dtype));
  const Conv2dParams& p = k.params;
  const int64_t oh = p.out_h(k.h, k.kh), ow = p.out_w(k.w, k.kw);
  const int64_t fan_in = k.c / p.groups * k.kh * k.kw;
  const Tensor x = randn_as({k.n, k.c, k.h, k.w}, dtype, 11);
  // Scaled so outputs are O(1) whatever the fan-in, which keeps the tolerance meaningful.
  const Tensor weight = randn_as({k.o, k.c / p.groups, k.kh, k.kw}, dtype, 12, 1.0 / std::sqrt(double(fan_in)));
  const Tensor bias = k.bias ? randn_as({k.o}, dtype, 13) : Tensor();
  const Tensor grad_out = randn_as({k.n, k.o, oh, ow}, dtype, 14);

  Tensor out = empty({k.n, k.o, oh, ow}, TensorOptions{}.with_dtype(dtype));
  cpu::conv2d_forward(x, weight, bias, out, p);
  Tensor out_gpu = empty_gpu(out.shape(), dtype);
  cuda::conv2d_forward(on_gpu(x), on_gpu(weight), k.bias ? on_gpu(bias) : Tensor(), out_gpu, p);
  EXPECT_TRUE(gpu_near(out_gpu, out, rel)) << "forward";

  Tensor grad_x = empty(x.shape(), TensorOptions{}.with_dtype(dtype));
  cpu::conv2d_backward_data(grad_out, weight, grad_x, p);
  Tensor grad_x_gpu = empty_gpu(x.shape(), dtype);
  cuda::conv2d_backward_data(on_gpu(grad_out), on_gpu(weight), grad_x_gpu, p);
  EXPECT_TRUE(gpu_near(grad_x_gpu, grad_x, rel)) << "backward data";

  Tensor grad_w = empty(weight.shape(), TensorOptions{}.with_dtype(dtype));
  cpu::conv2d_backward_filter(grad_out, x, grad_w, p);
  // Garbage in the output first: the kernel must overwrite, not accumulate.
  Tensor grad_w_gpu = on_gpu(full(weight.shape(), 7.0, TensorOptions{}.with_dtype(dtype)));
  cuda::conv2d_backward_filter(on_gpu(grad_out), on_gpu(x), grad_w_gpu, p);
  EXPECT_TRUE(gpu_near(grad_w_gpu, grad_w, rel)) << "backward filter";
}

std::vector<ConvCase> cases() {
  Conv2dParams asymmetric = params_of(1, 0);
  asymmetric.stride_h = 2;
  asymmetric.pad_w = 2;
  asymmetric.dilation_w = 3;
  return {
      {"plain 3x3", 2, 3, 9, 11, 5, 3, 3, params_of(1, 0)},
      {"stride 2 pad 1", 2, 4, 13, 10, 6, 3, 3, params_of(2, 1)},
      {"dilation 2", 1, 3, 12, 12, 4, 3, 3, params_of(1, 2, 2)},
      {"groups 2", 2, 6, 8, 9, 4, 3, 3, params_of(1, 1, 1, 2)},
      {"depthwise", 2, 8, 10, 10, 8, 3, 3, params_of(1, 1, 1, 8)},
      // MobileNetV2's depthwise layers: the CPU's direct kernel against cuDNN's grouped one.
      {"depthwise stride 2, odd size", 2, 32, 13, 11, 32, 3, 3, params_of(2, 1, 1, 32)},
      {"depthwise 5x5 no bias", 1, 16, 12, 12, 16, 5, 5, params_of(1, 2, 1, 16), false},
      {"1x1", 3, 16, 7, 5, 12, 1, 1, params_of(1, 0)},
      {"1x1 stride 2", 2, 8, 9, 9, 4, 1, 1, params_of(2, 0)},
      {"no bias 5x5", 2, 3, 11, 13, 4, 5, 5, params_of(1, 2), false},
      {"7x7 stride 2 pad 3 (ResNet stem)", 1, 3, 23, 19, 8, 7, 7, params_of(2, 3), false},
      {"non-square kernel", 2, 3, 8, 12, 5, 2, 4, params_of(1, 1)},
      {"asymmetric stride / pad / dilation", 2, 4, 11, 14, 3, 3, 2, asymmetric},
      {"odd sizes, kernel as large as the input", 3, 5, 4, 3, 7, 4, 3, params_of(1, 0)},
  };
}

TEST_F(Conv2dGpu, MatchesCpuFloat32) {
  MASKDET_REQUIRE_GPU();
  for (const ConvCase& k : cases()) check_conv(k, DType::Float32, kF32);
}

TEST_F(Conv2dGpu, MatchesCpuFloat64) {
  MASKDET_REQUIRE_GPU();
  for (const ConvCase& k : cases()) check_conv(k, DType::Float64, kF64);
}

// A ResNet / FPN 3x3 layer, 256 -> 256 channels (the CPU takes its Winograd path here).
TEST_F(Conv2dGpu, ResNetLike3x3With256Channels) {
  MASKDET_REQUIRE_GPU();
  check_conv({"3x3 256->256", 2, 256, 14, 14, 256, 3, 3, params_of(1, 1)}, DType::Float32, kF32);
  check_conv({"3x3 256->256 stride 2", 1, 256, 15, 15, 256, 3, 3, params_of(2, 1), false}, DType::Float32, kF32);
  check_conv({"3x3 64->64 float64", 1, 64, 10, 10, 64, 3, 3, params_of(1, 1)}, DType::Float64, kF64);
}

// TF32 keeps 10 mantissa bits: ~1e-3 relative per product, so 1e-2 relative to the largest
// output. Also proves the math mode is part of the plan key (the same shape ran without TF32).
TEST_F(Conv2dGpu, Tf32MatchesCpuLoosely) {
  MASKDET_REQUIRE_GPU();
  cuda::set_allow_tf32(true);
  check_conv({"3x3 tf32", 2, 32, 12, 12, 32, 3, 3, params_of(1, 1)}, DType::Float32, 1e-2);
  check_conv({"plain 3x3", 2, 3, 9, 11, 5, 3, 3, params_of(1, 0)}, DType::Float32, 1e-2);
}

// The other ways of choosing an algorithm, each on shapes no other test plans (plans are cached
// per shape, so a shape seen before would not reach the new choice).
TEST_F(Conv2dGpu, TimedSearchDeterministicAndZeroWorkspaceChoicesMatchCpu) {
  MASKDET_REQUIRE_GPU();
  // Back to the defaults however the test ends, so later tests plan as usual.
  struct RestoreDefaults {
    ~RestoreDefaults() {
      cuda::set_cudnn_benchmark(false);
      cuda::set_cudnn_deterministic(false);
      cuda::set_cudnn_workspace_limit(size_t{512} << 20);
    }
  } restore;
  cuda::set_cudnn_benchmark(true);
  check_conv({"timed search", 2, 12, 17, 15, 10, 3, 3, params_of(1, 1)}, DType::Float32, kF32);
  check_conv({"timed search groups", 2, 12, 9, 9, 6, 3, 3, params_of(2, 1, 1, 3)}, DType::Float64, kF64);
  cuda::set_cudnn_benchmark(false);

  cuda::set_cudnn_deterministic(true);
  check_conv({"deterministic", 2, 10, 13, 13, 14, 3, 3, params_of(1, 1)}, DType::Float32, kF32);
  cuda::set_cudnn_deterministic(false);

  // Nothing fits a zero limit unless the algorithm needs no workspace; else the smallest is used.
  cuda::set_cudnn_workspace_limit(0);
  check_conv({"zero workspace", 3, 9, 11, 12, 7, 3, 3, params_of(1, 1)}, DType::Float32, kF32);
  check_conv({"zero workspace 5x5 dilated", 1, 6, 16, 16, 6, 5, 5, params_of(1, 2, 2)}, DType::Float32, kF32);
  cuda::set_cudnn_workspace_limit(size_t{512} << 20);
}

// Repeated calls reuse the cached plan and give the same result bit for bit.
TEST_F(Conv2dGpu, RepeatedCallsAgree) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = on_gpu(randn_as({2, 8, 10, 10}, DType::Float32, 21));
  const Tensor w = on_gpu(randn_as({8, 8, 3, 3}, DType::Float32, 22));
  const Conv2dParams p = params_of(1, 1);
  Tensor a = empty_gpu({2, 8, 10, 10}, DType::Float32), b = empty_gpu({2, 8, 10, 10}, DType::Float32);
  cuda::conv2d_forward(x, w, Tensor(), a, p);
  cuda::conv2d_forward(x, w, Tensor(), b, p);
  EXPECT_TRUE(gpu_equal(a, on_cpu(b)));
}

// An empty batch: nothing to compute, and the filter gradient is an empty sum, zero.
TEST_F(Conv2dGpu, EmptyBatch) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const Conv2dParams p = params_of(1, 1);
    const Tensor x = empty_gpu({0, 3, 8, 8}, dtype), w = on_gpu(randn_as({4, 3, 3, 3}, dtype, 31));
    const Tensor b = on_gpu(randn_as({4}, dtype, 32));
    Tensor out = empty_gpu({0, 4, 8, 8}, dtype), grad_x = empty_gpu({0, 3, 8, 8}, dtype);
    cuda::conv2d_forward(x, w, b, out, p);
    cuda::conv2d_backward_data(out, w, grad_x, p);
    Tensor grad_w = on_gpu(full({4, 3, 3, 3}, 5.0, TensorOptions{}.with_dtype(dtype)));
    cuda::conv2d_backward_filter(out, x, grad_w, p);
    EXPECT_TRUE(gpu_equal(grad_w, zeros({4, 3, 3, 3}, TensorOptions{}.with_dtype(dtype))));
    EXPECT_EQ(out.numel(), 0);
  }
}

TEST_F(Conv2dGpu, RejectsWhatTheCpuRejects) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = on_gpu(randn_as({1, 4, 6, 6}, DType::Float32, 41));
  const Tensor w = on_gpu(randn_as({2, 3, 3, 3}, DType::Float32, 42));
  Tensor out = empty_gpu({1, 2, 4, 4}, DType::Float32);
  EXPECT_ERROR_CONTAINS(cuda::conv2d_forward(x, w, Tensor(), out, params_of(1, 0)), "does not fit x");
  const Tensor w_ok = on_gpu(randn_as({2, 4, 3, 3}, DType::Float32, 43));
  Tensor wrong_out = empty_gpu({1, 2, 5, 5}, DType::Float32);
  EXPECT_ERROR_CONTAINS(cuda::conv2d_forward(x, w_ok, Tensor(), wrong_out, params_of(1, 0)), "output has shape");
  EXPECT_ERROR_CONTAINS(cuda::conv2d_forward(x, on_cpu(w_ok), Tensor(), out, params_of(1, 0)), "weight is on cpu");
}

}  // namespace
}  // namespace maskdet::test
