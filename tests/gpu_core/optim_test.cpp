// CPU-vs-CUDA tests of the fused optimiser kernels: several SGD steps (plain, momentum with
// dampening, Nesterov, weight decay), AdamW steps and moving-average steps on both devices from
// the same state, and norm_partial (p = 1, 2, 3, inf; NaNs; sizes around its chunk of 32768).
//
// The updates do the CPU's double arithmetic with the same roundings (cuda/kernels/optim.cu),
// so parameters and state must agree to 2 ulp (ulp_tolerance) after every step: in practice
// bit for bit. norm_partial adds in another order than the CPU: rtol 1e-12; its max is exact.
#include "gpu_core_util.h"
#include "tensor/kernels/optim.h"

namespace maskdet {
namespace {
using namespace test;

struct SgdCase {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
};

TEST(GpuSgd, StepsMatchTheCpu) {
  MASKDET_REQUIRE_GPU();
  const std::vector<SgdCase> cases{{0.1, 0, 0, 0, false},     {0.05, 0, 0, 1e-2, false}, {0.1, 0.9, 0, 0, false},
                                   {0.02, 0.9, 0.1, 5e-4, false}, {0.1, 0.9, 0, 1e-4, true}};
  for (DType dtype : float_dtypes())
    for (const SgdCase& c : cases)
      for (int64_t n : odd_sizes()) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " lr=" + std::to_string(c.lr) + " momentum=" +
                     std::to_string(c.momentum) + " dampening=" + std::to_string(c.dampening) +
                     " wd=" + std::to_string(c.weight_decay) + (c.nesterov ? " nesterov" : "") +
                     ", n = " + std::to_string(n));
        const Pair param = both_devices(uniform({n}, dtype, 81));
        // Without momentum the buffer is undefined on both devices.
        const Pair buf = c.momentum != 0 ? both_devices(zeros({n}, {dtype})) : Pair{};
        for (int step = 0; step < 4; ++step) {
          const Pair grad = both_devices(uniform({n}, dtype, 82 + step));
          cpu::sgd_update(param.cpu, grad.cpu, buf.cpu, c.lr, c.momentum, c.dampening, c.weight_decay, c.nesterov,
                          step == 0);
          cuda::sgd_update(param.gpu, grad.gpu, buf.gpu, c.lr, c.momentum, c.dampening, c.weight_decay, c.nesterov,
                           step == 0);
          EXPECT_TRUE(gpu_matches_cpu(param.gpu, param.cpu, ulp_tolerance(dtype))) << "param, step " << step;
          if (c.momentum != 0) {
            EXPECT_TRUE(gpu_matches_cpu(buf.gpu, buf.cpu, ulp_tolerance(dtype))) << "buffer, step " << step;
          }
        }
      }
}

TEST(GpuSgd, RejectsBadState) {
  MASKDET_REQUIRE_GPU();
  const Tensor p = on_gpu(zeros({4}));
  EXPECT_ERROR_CONTAINS(cuda::sgd_update(p, on_gpu(zeros({5})), Tensor(), 0.1, 0, 0, 0,
                                         false, true),
                        "sgd_update: grad has shape (5,), the parameter (4,)");
  EXPECT_ERROR_CONTAINS(cuda::sgd_update(p, p, Tensor(), 0.1, 0.9, 0, 0, false, true),
                        "sgd_update: momentum_buffer is undefined");
  EXPECT_ERROR_CONTAINS(cuda::sgd_update(p, on_gpu(zeros({8})).slice(0, 0, 8, 2), Tensor(),
                                         0.1, 0, 0, 0, false, true),
                        "sgd_update: grad must be contiguous");
  EXPECT_ERROR_CONTAINS(cuda::sgd_update(p, zeros({4}), Tensor(), 0.1, 0, 0, 0, false, true), "grad is on cpu");
}

TEST(GpuAdamW, StepsMatchTheCpu) {
  MASKDET_REQUIRE_GPU();
  struct AdamCase {
    double lr, beta1, beta2, eps, weight_decay;
  };
  const std::vector<AdamCase> cases{{1e-3, 0.9, 0.999, 1e-8, 1e-2}, {0.1, 0.5, 0.9, 1e-3, 0}, {3e-4, 0.9, 0.99, 1e-6, 0.1}};
  for (DType dtype : float_dtypes())
    for (const AdamCase& c : cases)
      for (int64_t n : odd_sizes()) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " lr=" + std::to_string(c.lr) + " betas=" +
                     std::to_string(c.beta1) + "," + std::to_string(c.beta2) + " wd=" + std::to_string(c.weight_decay) +
                     ", n = " + std::to_string(n));
        const Pair param = both_devices(uniform({n}, dtype, 91));
        const Pair m = both_devices(zeros({n}, {dtype})), v = both_devices(zeros({n}, {dtype}));
        for (int64_t step = 1; step <= 5; ++step) {
          const Pair grad = both_devices(uniform({n}, dtype, 92 + step));
          cpu::adamw_update(param.cpu, grad.cpu, m.cpu, v.cpu, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, step);
          cuda::adamw_update(param.gpu, grad.gpu, m.gpu, v.gpu, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, step);
          EXPECT_TRUE(gpu_matches_cpu(param.gpu, param.cpu, ulp_tolerance(dtype))) << "param, step " << step;
          EXPECT_TRUE(gpu_matches_cpu(m.gpu, m.cpu, ulp_tolerance(dtype))) << "exp_avg, step " << step;
          EXPECT_TRUE(gpu_matches_cpu(v.gpu, v.cpu, ulp_tolerance(dtype))) << "exp_avg_sq, step " << step;
        }
      }
}

TEST(GpuAdamW, RejectsStepZero) {
  MASKDET_REQUIRE_GPU();
  const Tensor p = on_gpu(zeros({4}, {DType::Float64}));
  EXPECT_ERROR_CONTAINS(cuda::adamw_update(p, p, p, p, 1e-3, 0.9, 0.999, 1e-8, 0, 0),
                        "adamw_update: step is 0, the first update is step 1");
}

TEST(GpuEma, StepsMatchTheCpu) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : float_dtypes())
    for (double decay : {0.0, 0.5, 0.9998, 1.0})
      for (int64_t n : odd_sizes()) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " decay=" + std::to_string(decay) + ", n = " + std::to_string(n));
        const Pair average = both_devices(uniform({n}, dtype, 71));
        for (int step = 0; step < 4; ++step) {
          const Pair value = both_devices(uniform({n}, dtype, 72 + step));
          cpu::ema_update(average.cpu, value.cpu, decay);
          cuda::ema_update(average.gpu, value.gpu, decay);
          EXPECT_TRUE(gpu_matches_cpu(average.gpu, average.cpu, ulp_tolerance(dtype))) << "average, step " << step;
        }
      }
  EXPECT_ERROR_CONTAINS(cuda::ema_update(on_gpu(zeros({4})), on_gpu(zeros({5})), 0.9),
                        "ema_update: value has shape (5,), the parameter (4,)");
}

TEST(GpuNormPartial, SumsAndMaxMatchTheCpu) {
  MASKDET_REQUIRE_GPU();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<int64_t> sizes = odd_sizes();
  for (int64_t n : {32767, 32768, 32769, 65536 * 3 + 5}) sizes.push_back(n);
  for (DType dtype : float_dtypes())
    for (double p : {1.0, 2.0, 3.0, inf})
      for (int64_t n : sizes) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " p=" + std::to_string(p) + ", n = " + std::to_string(n));
        const Pair x = both_devices(uniform({n}, dtype, 101, -3.0, 3.0));
        Tensor expected = empty({1}, {DType::Float64});
        Tensor out = full({1}, 123.0, {DType::Float64}).to(Device::cuda());  // must be overwritten
        cpu::norm_partial(x.cpu, p, expected);
        cuda::norm_partial(x.gpu, p, out);
        if (std::isinf(p)) EXPECT_TRUE(gpu_equals_cpu(out, expected));
        else EXPECT_TRUE(gpu_matches_cpu(out, expected, {0, 1e-12}));
      }
}

TEST(GpuNormPartial, NaNsWin) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : float_dtypes())
    for (double p : {2.0, std::numeric_limits<double>::infinity()})
      for (int64_t at : {int64_t{0}, int64_t{40000}, int64_t{99999}}) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " p=" + std::to_string(p) + ", NaN at " + std::to_string(at));
        std::vector<double> v = uniform({100000}, DType::Float64, 102).to_vector<double>();
        v[at] = std::numeric_limits<double>::quiet_NaN();
        const Pair x = both_devices(from_vector(v, {100000}, {dtype}));
        Tensor out = empty({1}, {DType::Float64, Device::cuda()});
        cuda::norm_partial(x.gpu, p, out);
        EXPECT_TRUE(std::isnan(out.item()));
      }
}

TEST(GpuNormPartial, RejectsBadArguments) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = on_gpu(zeros({6}));
  EXPECT_ERROR_CONTAINS(cuda::norm_partial(x, 2.0, empty({1}, {DType::Float32, Device::cuda()})),
                        "norm_partial: out must be one float64 element, got float32 (1,)");
  EXPECT_ERROR_CONTAINS(cuda::norm_partial(x.slice(0, 0, 6, 2), 2.0, empty({1}, {DType::Float64, Device::cuda()})),
                        "norm_partial: x must be contiguous");
  EXPECT_ERROR_CONTAINS(cuda::norm_partial(x, 0.0, empty({1}, {DType::Float64, Device::cuda()})),
                        "norm_partial: norm_type must be positive, got 0");
}

}  // namespace
}  // namespace maskdet
