// SiLU end to end, the worked example of docs/ADDING_A_LAYER.md: kernel values against the
// formula evaluated in long double (no PyTorch fixture, so the shared fixture files stay as they
// are), the fused op against the same maths composed from existing ops, the layer inside a
// Sequential and inside a model of its own taking an SGD step, and CPU against CUDA where a GPU
// is present.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gpu_test_util.h"
#include "layers/linear.h"
#include "layers/optim/sgd.h"
#include "layers/sequential.h"
#include "layers/silu.h"
#include "tensor/kernels/silu.h"
#include "test_util.h"

namespace maskdet {
namespace {
using test::tensors_near;

// Where sigmoid saturates (+-20, +-50), near the minimum of silu (-1.278), at and around 0, and
// -87, the most negative input whose float32 result is still a normal number.
const std::vector<double> kProbes = {-87, -50, -20, -8, -1.278, -1, -1e-3, 0, 1e-3, 0.5, 1, 3, 8, 20, 50};

// The reference maths in long double, written independently of the kernels' form: x / (1 + e^-x)
// and s(x) + x s(x) s(-x), with 1 - s(x) taken as s(-x) so it does not cancel to 0.
long double sigmoid_ref(long double x) { return 1.0L / (1.0L + std::exp(-x)); }
long double silu_ref(long double x) { return x / (1.0L + std::exp(-x)); }
long double silu_derivative_ref(long double x) {
  const long double s = sigmoid_ref(x);
  return s + x * s * sigmoid_ref(-x);
}

template <class F>
Tensor reference(const std::vector<double>& xs, DType dtype, F f) {
  std::vector<double> out;
  for (double x : xs) out.push_back(static_cast<double>(f(static_cast<long double>(x))));
  // Rounded to the dtype under test, as a correctly rounded kernel would return it.
  return from_vector<double>(out, {static_cast<int64_t>(xs.size())}, {DType::Float64}).to(dtype);
}

Tensor probes(DType dtype, bool requires_grad = false) {
  Tensor x = from_vector<double>(kProbes, {static_cast<int64_t>(kProbes.size())}, {DType::Float64}).to(dtype);
  if (requires_grad) x.set_requires_grad(true);
  return x;
}

TEST(SiLU, ForwardMatchesFormulaFloat32AndFloat64) {
  // float32: expf, the division and the product each round once, a few ulp (1.2e-7) in all.
  EXPECT_TRUE(tensors_near(silu(probes(DType::Float32)), reference(kProbes, DType::Float32, silu_ref), 0, 1e-6));
  EXPECT_TRUE(tensors_near(silu(probes(DType::Float64)), reference(kProbes, DType::Float64, silu_ref), 0, 1e-15));
  EXPECT_EQ(silu(probes(DType::Float32)).dtype(), DType::Float32);
}

TEST(SiLU, BackwardMatchesDerivativeFormula) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    Tensor x = probes(dtype, true);
    silu(x).sum().backward();
    // The derivative crosses 0 at -1.278, where only an absolute tolerance makes sense.
    const double atol = dtype == DType::Float32 ? 1e-7 : 1e-15;
    const double rtol = dtype == DType::Float32 ? 1e-6 : 1e-14;
    EXPECT_TRUE(tensors_near(x.grad(), reference(kProbes, dtype, silu_derivative_ref), atol, rtol))
        << dtype_name(dtype);
  }
}

TEST(SiLU, HugeInputsGiveNoInfOrNaN) {
  // e^1000 overflows both dtypes; the kernel never forms it.
  for (DType dtype : {DType::Float32, DType::Float64}) {
    Tensor x = from_vector<double>({-1000, 1000}, {2}, {DType::Float64}).to(dtype).set_requires_grad(true);
    Tensor y = silu(x);
    y.sum().backward();
    EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{0, 1000})) << dtype_name(dtype);
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1})) << dtype_name(dtype);
  }
}

TEST(SiLU, StridedViewsNeedNoCopy) {
  // A transposed input, and an incoming gradient with a stride-0 dim (an expanded row), take the
  // CPU kernels' strided path; the result must not depend on the layout.
  Tensor x = test::randn64({3, 4}, 401);
  Tensor xt = x.transpose(0, 1);  // (4, 3)
  ASSERT_FALSE(xt.is_contiguous());
  Tensor y = silu(xt);
  EXPECT_EQ(y.to_vector<double>(), silu(xt.contiguous().detach()).to_vector<double>());
  const std::vector<double> row = {0.5, -2.0, 3.0};
  y.backward(from_vector<double>(row, {1, 3}, {DType::Float64}).expand({4, 3}));
  // y[j][i] = silu(x[i][j]) got gradient row[i], so x.grad[i][j] = row[i] * silu'(x[i][j]).
  const std::vector<double> xv = x.detach().to_vector<double>();
  std::vector<double> expected;
  for (size_t k = 0; k < xv.size(); ++k)
    expected.push_back(row[k / 4] * static_cast<double>(silu_derivative_ref(xv[k])));
  EXPECT_TRUE(tensors_near(x.grad(), from_vector<double>(expected, {3, 4}, {DType::Float64}), 1e-15, 1e-14));
}

TEST(SiLU, FusedEqualsComposed) {
  // The same function built from sigmoid and mul gets its backward from theirs; the fused op must
  // agree with it in value and gradient, only the rounding differs.
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const double tol = dtype == DType::Float32 ? 1e-6 : 1e-14;
    Tensor x1 = (test::randn64({64}, 402, false) * 6.0).to(dtype).set_requires_grad(true);
    Tensor x2 = x1.detach().clone().set_requires_grad(true);
    Tensor w = test::randn64({64}, 403, false).to(dtype);
    Tensor fused = silu(x1), composed = x2 * sigmoid(x2);
    EXPECT_TRUE(tensors_near(fused, composed, tol, tol)) << dtype_name(dtype);
    (fused * w).sum().backward();
    (composed * w).sum().backward();
    EXPECT_TRUE(tensors_near(x1.grad(), x2.grad(), tol, tol)) << dtype_name(dtype);
  }
}

TEST(SiLU, ErrorsNameTheProblem) {
  EXPECT_ERROR_CONTAINS(silu(Tensor()), "silu: undefined input");
  EXPECT_ERROR_CONTAINS(silu(zeros({2, 3}, {DType::Int64})), "silu: x must be float32 or float64, got int64 (2, 3)");
  // The kernel contract: outputs are passed in and must fit.
  EXPECT_ERROR_CONTAINS(kernels::silu_forward(zeros({4}), zeros({5})), "silu_forward: out has shape (5,)");
  EXPECT_ERROR_CONTAINS(kernels::silu_backward(zeros({4}), zeros({4}), zeros({4}, {DType::Float64})),
                        "silu_backward: grad_x is float64 but x is float32");
}

// A model with its own forward: children are registered in the constructor, and their names
// become the state-dict prefixes. The activation registers too, although it owns no tensors, so
// that printing the model shows it and to()/train() reach it like any other child.
class TinySiluNet : public nn::UnaryModule {
 public:
  TinySiluNet() : UnaryModule("TinySiluNet") {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(4, 8));
    act = register_module("act", std::make_shared<nn::SiLU>());
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(8, 1));
  }
  // x: (N, 4) -> (N, 1)
  Tensor forward(const Tensor& x) override { return fc2->forward(act->forward(fc1->forward(x))); }

  std::shared_ptr<nn::Linear> fc1, fc2;
  std::shared_ptr<nn::SiLU> act;
};

std::vector<std::string> state_dict_keys(const nn::Module& model) {
  std::vector<std::string> keys;
  for (const auto& [key, t] : model.state_dict()) keys.push_back(key);
  return keys;
}

// Regresses y = sum of x's features squared for one SGD step; returns the loss before and after.
std::pair<double, double> one_sgd_step(nn::UnaryModule& model) {
  Generator gen(404);
  const Tensor x = randn({32, 4}, {}, &gen);
  const Tensor target = (x * x).sum({1}, true);
  optim::SGD sgd(model.parameters(), {.lr = 0.05});
  const Tensor loss = (model(x) - target).pow(2.0).mean();
  loss.backward();
  for (const auto& [name, p] : model.named_parameters()) {
    EXPECT_GT(p.grad().defined() ? p.grad().abs().sum().item() : 0.0, 0.0) << name << ": no gradient, or all 0";
  }
  sgd.step();
  return {loss.item(), (model(x) - target).pow(2.0).mean().item()};
}

TEST(SiLU, LayerInSequentialTrainsAStep) {
  manual_seed(405);
  auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::UnaryModule>>{
      std::make_shared<nn::Linear>(4, 8), std::make_shared<nn::SiLU>(), std::make_shared<nn::Linear>(8, 1)});
  EXPECT_EQ((*model)[1]->str(), "SiLU()");
  // SiLU owns no tensors, so the keys skip index 1, as torch.nn.Sequential's would.
  EXPECT_EQ(state_dict_keys(*model), (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  const auto [before, after] = one_sgd_step(*model);
  EXPECT_LT(after, before);
}

TEST(SiLU, LayerRegisteredInAModelTrainsAStep) {
  manual_seed(406);
  auto model = std::make_shared<TinySiluNet>();
  EXPECT_NE(model->str().find("(act): SiLU()"), std::string::npos) << model->str();
  EXPECT_EQ(state_dict_keys(*model), (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  const auto [before, after] = one_sgd_step(*model);
  EXPECT_LT(after, before);
}

// The cuda:: kernels called directly, as the dispatcher will once it routes CUDA tensors to them.
TEST(SiLU, CudaKernelsMatchCpu) {
  MASKDET_REQUIRE_GPU();
#ifdef MASKDET_WITH_CUDA
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const double tol = dtype == DType::Float32 ? 1e-6 : 1e-14;
    // Enough elements for several blocks and grid-stride iterations, and the saturated probes.
    Tensor x = cat({test::randn64({100000}, 407, false) * 10.0, probes(DType::Float64)}, 0).to(dtype);
    Tensor g = test::randn64({x.numel()}, 408, false).to(dtype);
    Tensor y_cpu = empty(x.shape(), {dtype}), gx_cpu = empty(x.shape(), {dtype});
    cpu::silu_forward(x, y_cpu);
    cpu::silu_backward(g, x, gx_cpu);
    const TensorOptions on_device{dtype, Device::cuda()};
    Tensor y_gpu = empty(x.shape(), on_device), gx_gpu = empty(x.shape(), on_device);
    cuda::silu_forward(test::on_gpu(x), y_gpu);
    cuda::silu_backward(test::on_gpu(g), test::on_gpu(x), gx_gpu);
    EXPECT_TRUE(tensors_near(test::on_cpu(y_gpu), y_cpu, tol, tol)) << dtype_name(dtype);
    EXPECT_TRUE(tensors_near(test::on_cpu(gx_gpu), gx_cpu, tol, tol)) << dtype_name(dtype);
  }
  // A strided operand is refused rather than read as if it were dense.
  Tensor m = test::on_gpu(zeros({3, 4}));
  EXPECT_ERROR_CONTAINS(cuda::silu_forward(m.transpose(0, 1), empty({4, 3}, {DType::Float32, Device::cuda()})),
                        "silu_forward: x must be contiguous on CUDA");
#endif
}

// The op on CUDA tensors, through the dispatcher: runs once the build routes CUDA tensors to the
// cuda:: kernels (MASKDET_WITH_CUDA_KERNELS, from the CMake option MASKDET_CUDA_KERNELS).
TEST(SiLU, CudaOpMatchesCpu) {
  MASKDET_REQUIRE_GPU();
#ifndef MASKDET_WITH_CUDA_KERNELS
  GTEST_SKIP() << "CUDA kernels are not dispatched in this build: MASKDET_WITH_CUDA_KERNELS is not defined "
                  "(CMake option MASKDET_CUDA_KERNELS=OFF), so kernels:: throws for CUDA tensors";
#else
  // A transposed view: the op must make it contiguous before the CUDA kernel sees it.
  const Tensor base = (test::randn64({40, 30}, 409, false) * 8.0).to(DType::Float32);
  Tensor x_cpu = base.transpose(0, 1).set_requires_grad(true);
  Tensor x_gpu = test::on_gpu(base).transpose(0, 1).set_requires_grad(true);
  const Tensor g_cpu = test::randn64({30, 40}, 410, false).to(DType::Float32);
  Tensor y_cpu = silu(x_cpu), y_gpu = silu(x_gpu);
  y_cpu.backward(g_cpu);
  y_gpu.backward(test::on_gpu(g_cpu));
  EXPECT_TRUE(tensors_near(test::on_cpu(y_gpu), y_cpu, 1e-6, 1e-6));
  EXPECT_TRUE(tensors_near(test::on_cpu(x_gpu.grad()), x_cpu.grad(), 1e-6, 1e-6));
#endif
}

}  // namespace
}  // namespace maskdet
