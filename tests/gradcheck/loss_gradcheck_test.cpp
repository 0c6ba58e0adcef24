// Gradient checks for the fused loss ops under every reduction (float64, central differences).
#include "test_util.h"

namespace maskdet {
namespace {
using test::rand64;
using test::randn64;

constexpr Reduction kReductions[] = {Reduction::None, Reduction::Sum, Reduction::Mean};

// Hard 0/1 targets, about a third positive.
Tensor binary_targets(const Shape& shape, uint64_t seed) {
  return lt(rand64(shape, seed, 0, 1, false), full({}, 0.33, {DType::Float64})).to(DType::Float64);
}

TEST(LossGradcheck, BceWithLogitsWeighted) {
  const Tensor targets = rand64({3, 5}, 101, 0, 1, false);  // soft targets
  const Tensor weight = rand64({5}, 102, 0.2, 2.0, false);  // broadcast over rows
  for (Reduction r : kReductions) {
    EXPECT_GRADCHECK(
        [&](const std::vector<Tensor>& v) { return binary_cross_entropy_with_logits(v[0], targets, weight, r); },
        {randn64({3, 5}, 103) * 3.0});
  }
}

TEST(LossGradcheck, BceWithLogitsUnweighted) {
  const Tensor targets = binary_targets({2, 3, 4}, 104);
  for (Reduction r : kReductions) {
    EXPECT_GRADCHECK(
        [&](const std::vector<Tensor>& v) { return binary_cross_entropy_with_logits(v[0], targets, Tensor(), r); },
        {randn64({2, 3, 4}, 105)});
  }
}

TEST(LossGradcheck, L1) {
  // Differences kept away from 0, where |d| has a kink.
  const Tensor target = randn64({4, 3}, 106, false);
  const Tensor offset = rand64({4, 3}, 107, 0.05, 1.0, false) * where(gt(randn64({4, 3}, 108, false), zeros({}, {DType::Float64})),
                                                                    full({}, 1.0, {DType::Float64}),
                                                                    full({}, -1.0, {DType::Float64}));
  Tensor input = (target + offset).detach();
  input.set_requires_grad(true);
  for (Reduction r : kReductions) {
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& v) { return l1_loss(v[0], target, r); }, {input});
  }
}

TEST(LossGradcheck, SmoothL1BothSidesOfBeta) {
  const double beta = 1.0 / 9.0;
  const Tensor target = zeros({8}, {DType::Float64});
  // |d| below beta (quadratic part) and above it (linear part), none at the joint.
  Tensor input = from_vector<double>({-0.5, -0.08, -0.02, 0.01, 0.05, 0.1, 0.3, 2.0}, {8},
                                     {DType::Float64, Device::cpu(), true});
  for (Reduction r : kReductions) {
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& v) { return smooth_l1_loss(v[0], target, beta, r); }, {input});
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& v) { return smooth_l1_loss(v[0], target, 1.0, r); }, {input});
  }
}

TEST(LossGradcheck, SmoothL1BetaZeroIsL1) {
  const Tensor target = randn64({5}, 109, false);
  Tensor input = (target + from_vector<double>({-1.0, -0.2, 0.3, 0.7, 1.5}, {5}, {DType::Float64})).detach();
  input.set_requires_grad(true);
  EXPECT_GRADCHECK([&](const std::vector<Tensor>& v) { return smooth_l1_loss(v[0], target, 0.0, Reduction::Sum); },
                   {input});
}

TEST(LossGradcheck, FocalGamma0And2WithIgnoredElements) {
  const Tensor targets = binary_targets({4, 6}, 110);
  // Weight 0 on some elements (ignored anchors), 1 elsewhere.
  const Tensor weight = gt(rand64({4, 6}, 111, 0, 1, false), full({}, 0.25, {DType::Float64})).to(DType::Float64);
  for (double gamma : {0.0, 2.0}) {
    for (Reduction r : kReductions) {
      const FocalLossOptions opts{0.25, gamma};
      EXPECT_GRADCHECK(
          [&](const std::vector<Tensor>& v) { return sigmoid_focal_loss(v[0], targets, opts, weight, r); },
          {randn64({4, 6}, 112) * 2.0});
    }
  }
}

TEST(LossGradcheck, FocalSoftTargetsNoAlphaFractionalGamma) {
  const Tensor targets = rand64({10}, 113, 0, 1, false);
  for (double gamma : {0.5, 1.5}) {
    const FocalLossOptions opts{-1.0, gamma};
    EXPECT_GRADCHECK(
        [&](const std::vector<Tensor>& v) { return sigmoid_focal_loss(v[0], targets, opts, Tensor(), Reduction::Sum); },
        {randn64({10}, 114)});
  }
}

}  // namespace
}  // namespace maskdet
