// The autograd engine: accumulation, shared subgraphs, detach, no-grad, freed graphs.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "test_util.h"

namespace maskdet {
namespace {

TEST(Autograd, SimpleChainRule) {
  Tensor x = from_vector<double>({1, 2, 3}, {3}, {DType::Float64, Device::cpu(), true});
  Tensor y = (x * x * 3.0).sum();  // dy/dx = 6x
  y.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{6, 12, 18}));
}

TEST(Autograd, TensorUsedTwiceAccumulates) {
  Tensor x = from_vector<double>({2}, {1}, {DType::Float64, Device::cpu(), true});
  Tensor a = x * 3.0, b = x.exp();
  Tensor y = (a + b + a).sum();  // 6x + e^x
  y.backward();
  EXPECT_NEAR(x.grad().item(), 6 + std::exp(2.0), 1e-12);
}

TEST(Autograd, GradsAccumulateAcrossBackwardsUntilZeroed) {
  Tensor x = from_vector<double>({1, 1}, {2}, {DType::Float64, Device::cpu(), true});
  (x * 2.0).sum().backward();
  (x * 3.0).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{5, 5}));
  x.zero_grad();
  (x * 4.0).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{4, 4}));
}

TEST(Autograd, DiamondGraphRunsEachNodeOnce) {
  Tensor x = test::randn64({3, 4}, 1);
  Tensor h = x.sigmoid();            // shared
  Tensor y = (h * h + h.exp()).sum();
  y.backward();
  const auto xv = x.detach().to_vector<double>();
  const auto g = x.grad().to_vector<double>();
  for (size_t i = 0; i < xv.size(); ++i) {
    const double s = 1 / (1 + std::exp(-xv[i]));
    EXPECT_NEAR(g[i], (2 * s + std::exp(s)) * s * (1 - s), 1e-12);
  }
}

TEST(Autograd, DetachAndNoGradCutTheGraph) {
  Tensor x = test::randn64({3}, 2);
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.storage().get(), x.storage().get());
  {
    NoGradGuard guard;
    Tensor y = x * 2.0;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
  }
  Tensor y = x * 2.0;
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(y.grad_fn()->name(), "MulBackward");
  // Only part of the graph carries a gradient.
  Tensor z = (x * d).sum();
  z.backward();
  EXPECT_TRUE(test::tensors_near(x.grad(), d, 0));
}

TEST(Autograd, SecondBackwardThroughFreedGraphIsAnError) {
  Tensor x = test::randn64({4}, 3);
  Tensor y = (x.sigmoid() * 2.0).sum();
  y.backward();
  try {
    y.backward();
    FAIL() << "second backward did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("second time"), std::string::npos) << e.what();
  }
  Tensor z = (x.exp()).sum();
  z.backward({}, /*retain_graph=*/true);
  z.backward();
  EXPECT_TRUE(x.grad().defined());
}

TEST(Autograd, NonScalarBackwardNeedsAGradient) {
  Tensor x = test::randn64({2, 2}, 4);
  Tensor y = x * 2.0;
  EXPECT_THROW(y.backward(), Error);
  y.backward(ones({2, 2}, {DType::Float64}));
  EXPECT_TRUE(test::tensors_near(x.grad(), full({2, 2}, 2.0, {DType::Float64}), 0));
}

TEST(Autograd, RequiresGradOnlyOnFloatLeaves) {
  Tensor x = test::randn64({2}, 5);
  Tensor y = x * 2.0;
  EXPECT_THROW(y.set_requires_grad(false), Error);
  EXPECT_THROW(zeros({2}, {DType::Int64}).set_requires_grad(true), Error);
  EXPECT_FALSE(zeros({2}).requires_grad());
}

TEST(Autograd, GradientsThroughViews) {
  Tensor x = test::randn64({2, 3}, 6);
  Tensor y = (x.transpose(0, 1).slice(0, 1, 3) * 2.0).sum() + x.reshape({6}).select(0, 0) * 5.0;
  y.backward();
  // d/dx: 2 on columns 1..2, plus 5 on x[0][0].
  std::vector<double> expected = {5, 2, 2, 0, 2, 2};
  EXPECT_EQ(x.grad().to_vector<double>(), expected);
}

TEST(Autograd, GradcheckCatchesAWrongGradient) {
  // A deliberately wrong backward must fail the check and name the element.
  auto wrong = [](const std::vector<Tensor>& in) {
    Tensor out = in[0].detach() * 3.0;
    Tensor x = in[0];
    autograd::record("WrongBackward", {x}, out, [](const Tensor& g) -> std::vector<Tensor> { return {g * 2.0}; });
    return out;
  };
  auto r = autograd::gradcheck(wrong, {test::randn64({3}, 7)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.worst.find("analytic"), std::string::npos);
}

// The hook data-parallel training starts its gradient all-reduces from: each leaf is reported
// once per backward, only after its last contribution arrived, and a leaf that gets no gradient
// is not reported.
TEST(Autograd, GradientReadyHookReportsEachLeafOnceItsGradientIsFinal) {
  Tensor used_twice = from_vector<double>({2}, {1}, {DType::Float64, Device::cpu(), true});
  Tensor used_once = from_vector<double>({3}, {1}, {DType::Float64, Device::cpu(), true});
  Tensor unused = from_vector<double>({4}, {1}, {DType::Float64, Device::cpu(), true});
  std::vector<std::pair<const TensorImpl*, double>> reported;  // leaf, its gradient when reported
  {
    autograd::GradientReadyScope scope([&](const TensorImpl& leaf) {
      reported.emplace_back(&leaf, Tensor(leaf.grad).item());
    });
    // d/d used_twice = 3 + 2 * used_once = 9; d/d used_once = 2 * used_twice = 4
    const Tensor y = (used_twice * 3.0 + used_twice * used_once * 2.0 + (unused * 0.0).detach()).sum();
    y.backward();
  }
  ASSERT_EQ(reported.size(), 2u);
  for (const auto& [leaf, grad] : reported) {
    EXPECT_NE(leaf, unused.impl().get());
    EXPECT_DOUBLE_EQ(grad, leaf == used_twice.impl().get() ? 9.0 : 4.0);
  }
  EXPECT_NE(reported[0].first, reported[1].first);
  // Outside the scope nothing is reported.
  (used_once * 1.0).sum().backward();
  EXPECT_EQ(reported.size(), 2u);
}

}  // namespace
}  // namespace maskdet
