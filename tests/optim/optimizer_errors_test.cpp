// Optimiser and kernel argument checks: each bad setting fails with a message naming the
// optimiser, the setting and its value.
#include "optim_fixture.h"
#include "tensor/kernels/optim.h"

namespace maskdet {
namespace {
using namespace test;

TEST(OptimizerErrors, NegativeLearningRate) {
  const std::vector<Tensor> params = fixture_params();
  EXPECT_ERROR_CONTAINS(optim::SGD(params, {.lr = -0.1}), "SGD: invalid lr -0.1 (must be a finite number >= 0)");
  EXPECT_ERROR_CONTAINS(optim::AdamW(params, {.lr = -0.1}), "AdamW: invalid lr -0.1");
  EXPECT_ERROR_CONTAINS(optim::SGD({{{params[0]}, -2.0}}, {}), "SGD: invalid lr -2");
  optim::SGD sgd(params, {});
  EXPECT_ERROR_CONTAINS(sgd.set_lr(0, -1.0), "SGD: invalid lr -1");
  EXPECT_ERROR_CONTAINS(sgd.set_lr(3, 1.0), "SGD: group 3 out of range (1 groups)");
}

TEST(OptimizerErrors, BadHyperParameters) {
  const std::vector<Tensor> params = fixture_params();
  EXPECT_ERROR_CONTAINS(optim::SGD(params, {.momentum = -0.9}), "SGD: invalid momentum -0.9");
  EXPECT_ERROR_CONTAINS(optim::SGD(params, {.weight_decay = -1e-4}), "SGD: invalid weight_decay -0.0001");
  EXPECT_ERROR_CONTAINS(optim::SGD(params, {.nesterov = true}), "Nesterov momentum needs momentum > 0 and dampening 0");
  EXPECT_ERROR_CONTAINS(optim::SGD(params, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                        "got momentum 0.9, dampening 0.1");
  EXPECT_ERROR_CONTAINS(optim::AdamW(params, {.beta1 = 1.0}), "AdamW: invalid beta1 1 (must be in [0, 1))");
  EXPECT_ERROR_CONTAINS(optim::AdamW(params, {.beta2 = -0.5}), "AdamW: invalid beta2 -0.5");
  EXPECT_ERROR_CONTAINS(optim::AdamW(params, {.eps = -1e-8}), "AdamW: invalid eps -1e-08");
}

TEST(OptimizerErrors, BadParameters) {
  const std::vector<Tensor> params = fixture_params();
  EXPECT_ERROR_CONTAINS(optim::SGD(std::vector<Tensor>{}, {}), "SGD: no parameters to optimise");
  EXPECT_ERROR_CONTAINS(optim::SGD({params[0], params[0]}, {}), "SGD: parameter 1 appears twice");
  EXPECT_ERROR_CONTAINS(optim::SGD({params[0] * 2.0}, {}), "SGD: parameter 0 is not a leaf");
  EXPECT_ERROR_CONTAINS(optim::SGD({zeros({2}, {DType::Int64})}, {}), "SGD: parameter 0 is int64");
}

TEST(OptimizerErrors, GradientOfTheWrongShape) {
  std::vector<Tensor> params = fixture_params();
  optim::SGD sgd(params, {.momentum = 0.9});
  params[0].set_grad(zeros({4, 3}, {DType::Float64}));
  EXPECT_ERROR_CONTAINS(sgd.step(), "sgd_update: grad has shape (4, 3), the parameter (3, 4)");
}

TEST(OptimizerErrors, KernelOperandChecks) {
  const Tensor p = zeros({4}, {DType::Float64});
  const Tensor g = zeros({4}, {DType::Float64});
  EXPECT_ERROR_CONTAINS(kernels::sgd_update(p, g, Tensor(), 0.1, 0.9, 0, 0, false, true),
                        "sgd_update: momentum_buffer is undefined");
  EXPECT_ERROR_CONTAINS(kernels::adamw_update(p, g, zeros({4}, {DType::Float32}), zeros({4}, {DType::Float64}), 1e-3,
                                              0.9, 0.999, 1e-8, 0, 1),
                        "adamw_update: exp_avg is float32, the parameter float64");
  EXPECT_ERROR_CONTAINS(kernels::adamw_update(p, g, zeros({4}, {DType::Float64}), zeros({4}, {DType::Float64}), 1e-3,
                                              0.9, 0.999, 1e-8, 0, 0),
                        "adamw_update: step is 0, the first update is step 1");
  const Tensor strided = zeros({4, 2}, {DType::Float64}).select(1, 0);
  EXPECT_ERROR_CONTAINS(kernels::sgd_update(strided, g, Tensor(), 0.1, 0, 0, 0, false, true),
                        "sgd_update: param must be contiguous");
}

}  // namespace
}  // namespace maskdet
