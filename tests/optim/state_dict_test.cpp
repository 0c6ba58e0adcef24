// Optimiser state dicts: a run restored from another's state dict (in memory or through a
// safetensors checkpoint) continues bit for bit; hyper-parameters come back with the state;
// a dict that does not fit is rejected with a message naming the key, and changes nothing.
#include <unistd.h>

#include <filesystem>

#include "layers/optim/lr_schedule.h"
#include "optim_fixture.h"

namespace maskdet {
namespace {
using namespace test;

std::vector<Tensor> clones_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> out;
  for (const Tensor& p : params) out.push_back(p.detach().clone().set_requires_grad(true));
  return out;
}

optim::StateDict through_checkpoint(const optim::StateDict& dict, const std::string& name) {
  // Per process: CTest runs this program twice at once (here and under TestsPassWithRemadeFixtures).
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / (std::to_string(getpid()) + "_" + name)).string();
  save_safetensors(path, dict);
  const std::map<std::string, Tensor> loaded = load_safetensors(path);
  std::filesystem::remove(path);
  return {loaded.begin(), loaded.end()};
}

class StateDictResume : public ::testing::TestWithParam<std::string> {};

// Run A takes two steps, B starts from A's parameters and state dict, then both take the
// remaining steps: every parameter must agree to the bit.
TEST_P(StateDictResume, ContinuesBitIdentically) {
  const std::string run = GetParam();
  for (const bool via_file : {false, true}) {
    SCOPED_TRACE(via_file ? "through a safetensors file" : "in memory");
    const std::vector<Tensor> a_params = fixture_params();
    auto a = make_fixture_optimizer(run, a_params);
    for (int k = 0; k < 2; ++k) fixture_step(*a, a_params, k);
    a->set_lr(0, a->lr(0) * 0.5);  // a schedule moved the lr: it must come back too

    const std::vector<Tensor> b_params = clones_of(a_params);
    auto b = make_fixture_optimizer(run, b_params);
    b->set_lr(1, 123.0);
    const optim::StateDict dict = a->state_dict();
    b->load_state_dict(via_file ? through_checkpoint(dict, run + ".safetensors") : dict);
    for (size_t g = 0; g < a->num_groups(); ++g) {
      EXPECT_EQ(b->lr(g), a->lr(g));
      EXPECT_EQ(b->initial_lr(g), a->initial_lr(g));
      EXPECT_EQ(b->weight_decay(g), a->weight_decay(g));
    }
    for (int k = 2; k < kFixtureSteps; ++k) {
      fixture_step(*a, a_params, k);
      fixture_step(*b, b_params, k);
      for (int i = 0; i < kFixtureParams; ++i) EXPECT_TRUE(bit_identical(b_params[i], a_params[i])) << "step " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Runs, StateDictResume, ::testing::ValuesIn(kOptimizerRuns),
                         [](const auto& info) { return info.param; });

TEST(StateDict, IsASnapshot) {
  const std::vector<Tensor> params = fixture_params();
  auto optimizer = make_fixture_optimizer("adamw", params);
  fixture_step(*optimizer, params, 0);
  const optim::StateDict dict = optimizer->state_dict();
  const Tensor saved = dict.back().second.clone();
  fixture_step(*optimizer, params, 1);
  EXPECT_TRUE(bit_identical(dict.back().second, saved));
}

TEST(StateDict, LoadingConvertsBuffersToTheParameterDtype) {
  const std::vector<Tensor> params64 = fixture_params(DType::Float64);
  auto a = make_fixture_optimizer("sgd_momentum", params64);
  fixture_step(*a, params64, 0);
  const std::vector<Tensor> params32 = fixture_params(DType::Float32);
  auto b = make_fixture_optimizer("sgd_momentum", params32);
  b->load_state_dict(a->state_dict());
  for (const auto& [key, tensor] : b->state_dict()) {
    if (key.find("momentum_buffer") != std::string::npos) {
      EXPECT_EQ(tensor.dtype(), DType::Float32) << key;
    }
  }
  fixture_step(*b, params32, 1);  // and the float32 update accepts them
}

// Replaces (or adds) one entry of a state dict.
optim::StateDict with_entry(optim::StateDict dict, const std::string& key, const Tensor& value) {
  for (auto& [k, t] : dict)
    if (k == key) {
      t = value;
      return dict;
    }
  dict.emplace_back(key, value);
  return dict;
}

optim::StateDict without_entry(optim::StateDict dict, const std::string& key) {
  std::erase_if(dict, [&](const auto& entry) { return entry.first == key; });
  return dict;
}

class StateDictErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    params_ = fixture_params();
    optimizer_ = make_fixture_optimizer("sgd_momentum", params_);
    fixture_step(*optimizer_, params_, 0);
    dict_ = optimizer_->state_dict();
  }
  std::vector<Tensor> params_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  optim::StateDict dict_;
};

TEST_F(StateDictErrors, BufferShapeMismatch) {
  EXPECT_ERROR_CONTAINS(optimizer_->load_state_dict(with_entry(dict_, "state.0.momentum_buffer", zeros({5}, {DType::Float64}))),
                        "SGD: load_state_dict: state.0.momentum_buffer has shape (5,) but parameter 0 has shape (3, 4)");
}

TEST_F(StateDictErrors, MissingKey) {
  EXPECT_ERROR_CONTAINS(optimizer_->load_state_dict(without_entry(dict_, "param_groups.1.lr")),
                        "SGD: load_state_dict: missing key param_groups.1.lr");
  EXPECT_ERROR_CONTAINS(optimizer_->load_state_dict(without_entry(dict_, "defaults.momentum")),
                        "missing key defaults.momentum");
}

TEST_F(StateDictErrors, UnknownKeys) {
  EXPECT_ERROR_CONTAINS(optimizer_->load_state_dict(with_entry(dict_, "state.0.exp_avg", zeros({3, 4}, {DType::Float64}))),
                        "unexpected key state.0.exp_avg");
  EXPECT_ERROR_CONTAINS(optimizer_->load_state_dict(with_entry(dict_, "state.9.step", scalar_tensor(1, {DType::Int64}))),
                        "state.9.step names parameter 9, this optimiser has 2");
  EXPECT_ERROR_CONTAINS(optimizer_->load_state_dict(with_entry(dict_, "param_groups.2.lr", scalar_tensor(1, {DType::Float64}))),
                        "unexpected key param_groups.2.lr (2 groups here)");
}

TEST_F(StateDictErrors, GroupsOfAnotherShape) {
  const std::vector<Tensor> params = fixture_params();
  optim::SGD one_group(params, {.lr = 0.1, .momentum = 0.9});
  EXPECT_ERROR_CONTAINS(one_group.load_state_dict(dict_), "group 0 has 1 parameters in the state dict, 2 here");
}

TEST_F(StateDictErrors, AnotherOptimisersDict) {
  const std::vector<Tensor> params = fixture_params();
  auto adamw = make_fixture_optimizer("adamw", params);
  EXPECT_ERROR_CONTAINS(adamw->load_state_dict(dict_), "AdamW: load_state_dict: missing key defaults.beta1");
}

TEST_F(StateDictErrors, InvalidHyperParameters) {
  EXPECT_ERROR_CONTAINS(optimizer_->load_state_dict(with_entry(dict_, "param_groups.0.lr", scalar_tensor(-1, {DType::Float64}))),
                        "SGD: invalid lr -1");
}

TEST_F(StateDictErrors, RejectedDictChangesNothing) {
  optimizer_->set_lr(0, 0.7);
  optim::StateDict bad = with_entry(dict_, "state.1.momentum_buffer", zeros({2}, {DType::Float64}));
  EXPECT_THROW(optimizer_->load_state_dict(bad), Error);
  EXPECT_EQ(optimizer_->lr(0), 0.7);
  const optim::StateDict now = optimizer_->state_dict();
  for (const auto& [key, tensor] : now) {
    for (const auto& [k, t] : dict_) {
      if (k == key && key.rfind("state.", 0) == 0) {
        EXPECT_TRUE(bit_identical(tensor, t)) << key;
      }
    }
  }
}

}  // namespace
}  // namespace maskdet
