// SGD (plain, momentum, Nesterov, dampening) and AdamW against torch.optim, step by step:
// float64 to rounding level, float32 to its precision, and the final state buffers by name.
#include "optim_fixture.h"

namespace maskdet {
namespace {
using namespace test;

std::string step_key(const std::string& run, int step, int param) {
  return run + ".step" + std::to_string(step) + ".param." + std::to_string(param);
}

// Runs the fixture's steps in `dtype`, comparing every parameter after every step.
void expect_every_step_matches(const std::string& run, DType dtype, double tolerance) {
  const std::vector<Tensor> params = fixture_params(dtype);
  auto optimizer = make_fixture_optimizer(run, params);
  for (int k = 0; k < kFixtureSteps; ++k) {
    fixture_step(*optimizer, params, k);
    for (int i = 0; i < kFixtureParams; ++i) {
      EXPECT_EQ(params[i].dtype(), dtype);
      EXPECT_TRUE(tensors_near(params[i], reference(step_key(run, k, i)), tolerance, tolerance))
          << run << " " << dtype_name(dtype) << " step " << k << " param " << i;
    }
  }
}

class OptimizerMatchesTorch : public ::testing::TestWithParam<std::string> {};

// PyTorch's vectorised CPU path fuses some multiply-adds, so float64 agrees to an ulp or two.
TEST_P(OptimizerMatchesTorch, Float64EveryStep) { expect_every_step_matches(GetParam(), DType::Float64, 1e-12); }

TEST_P(OptimizerMatchesTorch, Float32EveryStep) { expect_every_step_matches(GetParam(), DType::Float32, 1e-5); }

// The state dict names the same buffers PyTorch keeps, with the same values, and counts steps
// per parameter: parameter 1 had no gradient at step 2.
TEST_P(OptimizerMatchesTorch, FinalStateMatchesTorchState) {
  const std::string run = GetParam();
  const std::vector<Tensor> params = fixture_params(DType::Float64);
  auto optimizer = make_fixture_optimizer(run, params);
  for (int k = 0; k < kFixtureSteps; ++k) fixture_step(*optimizer, params, k);
  std::map<std::string, Tensor> state;
  for (const auto& [key, tensor] : optimizer->state_dict()) state[key] = tensor;
  EXPECT_EQ(state.at("state.0.step").item(), 5);
  EXPECT_EQ(state.at("state.1.step").item(), 4);
  int buffers = 0;
  for (const auto& [key, tensor] : optim_fixture()) {
    const std::string prefix = run + ".state.";
    if (key.rfind(prefix, 0) != 0) continue;
    const std::string ours = "state." + key.substr(prefix.size());
    ASSERT_TRUE(state.count(ours)) << "no " << ours << " in the state dict";
    EXPECT_TRUE(tensors_near(state.at(ours), tensor, 1e-12, 1e-12)) << ours;
    ++buffers;
  }
  // Plain SGD keeps no buffer; momentum SGD one per parameter; AdamW two.
  const int expected = run == "sgd_plain" ? 0 : (run == "adamw" ? 4 : 2);
  EXPECT_EQ(buffers, expected);
  size_t ours = 0;
  for (const auto& [key, tensor] : state)
    if (key.find(".step") == std::string::npos && key.rfind("state.", 0) == 0) ++ours;
  EXPECT_EQ(ours, static_cast<size_t>(expected));
}

INSTANTIATE_TEST_SUITE_P(Runs, OptimizerMatchesTorch, ::testing::ValuesIn(kOptimizerRuns),
                         [](const auto& info) { return info.param; });

TEST(Optimizer, SkipsParametersWithoutGradient) {
  std::vector<Tensor> params = fixture_params();
  auto optimizer = make_fixture_optimizer("sgd_momentum", params);
  const Tensor before = params[1].clone();
  params[0].set_grad(ones_like(params[0]));
  optimizer->step();
  EXPECT_TRUE(bit_identical(params[1], before));
  for (const auto& [key, tensor] : optimizer->state_dict()) EXPECT_EQ(key.rfind("state.1.", 0), std::string::npos);
}

TEST(Optimizer, ZeroGradDropsGradientsSoTheNextStepMovesNothing) {
  const std::vector<Tensor> params = fixture_params();
  auto optimizer = make_fixture_optimizer("adamw", params);
  fixture_step(*optimizer, params, 0);
  optimizer->zero_grad();
  for (const Tensor& p : params) EXPECT_FALSE(p.grad().defined());
  const Tensor before = params[0].clone();
  optimizer->step();
  EXPECT_TRUE(bit_identical(params[0], before));
}

TEST(Optimizer, GroupsKeepTheirOwnLrAndWeightDecay) {
  const std::vector<Tensor> params = fixture_params();
  optim::SGD sgd({{{params[0]}, 0.3, std::nullopt}, {{params[1]}}}, {.lr = 0.01, .weight_decay = 0.5});
  ASSERT_EQ(sgd.num_groups(), 2u);
  EXPECT_EQ(sgd.lr(0), 0.3);
  EXPECT_EQ(sgd.lr(1), 0.01);
  EXPECT_EQ(sgd.weight_decay(0), 0.5);
  sgd.set_lr(1, 0.2);
  EXPECT_EQ(sgd.lr(1), 0.2);
  EXPECT_EQ(sgd.initial_lr(1), 0.01);
  EXPECT_EQ(sgd.params(1).size(), 1u);
}

}  // namespace
}  // namespace maskdet
