// The PyTorch reference for the optimiser tests (tests/optim/data/optim.safetensors, made by
// tools/make_optim_fixtures.py) and the runs it describes, rebuilt in maskdet: the same two
// parameters in two groups, the same gradients, the same hyper-parameters.
#pragma once
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "layers/optim/adamw.h"
#include "layers/optim/sgd.h"
#include "tensor/safetensors.h"
#include "test_util.h"

namespace maskdet::test {

constexpr int kFixtureSteps = 5;
constexpr int kFixtureParams = 2;
// The optimiser runs of tools/make_optim_fixtures.py (OPTIMIZER_RUNS).
inline const std::vector<std::string> kOptimizerRuns = {"sgd_plain", "sgd_momentum", "sgd_nesterov",
                                                        "sgd_dampening", "adamw"};

inline const std::map<std::string, Tensor>& optim_fixture() {
  static const std::map<std::string, Tensor> tensors =
      load_safetensors(test::fixture_file("tests/optim/data/optim.safetensors"));
  return tensors;
}

inline bool has_reference(const std::string& key) { return optim_fixture().count(key) > 0; }

inline Tensor reference(const std::string& key) {
  const auto it = optim_fixture().find(key);
  MASKDET_CHECK(it != optim_fixture().end(), "optim fixture has no ", key,
                "; remake it with tools/make_optim_fixtures.py");
  return it->second;
}

// Fresh leaves holding the initial parameters, in `dtype`.
inline std::vector<Tensor> fixture_params(DType dtype = DType::Float64) {
  std::vector<Tensor> params;
  for (int i = 0; i < kFixtureParams; ++i) {
    Tensor p = reference("param." + std::to_string(i)).to(dtype).clone();
    p.set_requires_grad(true);
    params.push_back(p);
  }
  return params;
}

// Gives each parameter its gradient of step k (none where the fixture has none).
inline void set_fixture_grads(const std::vector<Tensor>& params, int step) {
  for (int i = 0; i < kFixtureParams; ++i) {
    const std::string key = "grad." + std::to_string(step) + "." + std::to_string(i);
    Tensor param = params[i];  // a handle: setting its grad sets the caller's
    param.set_grad(has_reference(key) ? reference(key).to(param.dtype()).clone() : Tensor());
  }
}

// The optimiser of one fixture run over `params` (param i in group i, each group with the
// run's lr and weight decay).
inline std::unique_ptr<optim::Optimizer> make_fixture_optimizer(const std::string& run,
                                                                const std::vector<Tensor>& params) {
  using namespace optim;
  if (run == "adamw")
    return std::make_unique<AdamW>(
        std::vector<ParamGroup>{{{params[0]}, 1e-3, 0.05}, {{params[1]}, 2e-3, 0.0}},
        AdamWOptions{.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8});
  SGDOptions options;
  if (run == "sgd_momentum") options.momentum = 0.9;
  if (run == "sgd_nesterov") options = {.momentum = 0.9, .nesterov = true};
  if (run == "sgd_dampening") options = {.momentum = 0.9, .dampening = 0.1};
  MASKDET_CHECK(run.rfind("sgd_", 0) == 0, "unknown fixture run ", run);
  return std::make_unique<SGD>(std::vector<ParamGroup>{{{params[0]}, 0.1, 1e-4}, {{params[1]}, 0.05, 0.0}},
                               options);
}

// One fixture step: that step's gradients, then optimizer.step().
inline void fixture_step(optim::Optimizer& optimizer, const std::vector<Tensor>& params, int step) {
  set_fixture_grads(params, step);
  optimizer.step();
}

// Every element of a and b has the same bits (both compared as double, which is exact).
inline ::testing::AssertionResult bit_identical(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype())
    return ::testing::AssertionFailure() << "shape or dtype differs";
  const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  for (size_t i = 0; i < va.size(); ++i)
    if (std::memcmp(&va[i], &vb[i], sizeof(double)) != 0)
      return ::testing::AssertionFailure() << "element " << i << ": " << va[i] << " vs " << vb[i];
  return ::testing::AssertionSuccess();
}

}  // namespace maskdet::test
