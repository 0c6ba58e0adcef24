// Loss ops: forward values against closed forms, the focal/BCE identity, ignored elements,
// saturated logits, reductions and error messages.
#include <cmath>

#include "test_util.h"

namespace maskdet {
namespace {
using test::rand64;
using test::randn64;
using test::tensors_near;

Tensor f64(const std::vector<double>& v, const Shape& shape, bool requires_grad = false) {
  return from_vector<double>(v, shape, {DType::Float64, Device::cpu(), requires_grad});
}

Tensor binary_targets(const Shape& shape, uint64_t seed, DType dtype = DType::Float64) {
  return lt(rand64(shape, seed, 0, 1, false), full({}, 0.4, {DType::Float64})).to(dtype);
}

TEST(Loss, BceWithLogitsMatchesClosedForm) {
  const Tensor x = f64({-3.0, -0.5, 0.0, 0.7, 4.0}, {5});
  const Tensor t = f64({0.0, 1.0, 0.5, 1.0, 0.0}, {5});
  const auto xs = x.to_vector<double>(), ts = t.to_vector<double>();
  std::vector<double> expected;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double p = 1 / (1 + std::exp(-xs[i]));
    expected.push_back(-(ts[i] * std::log(p) + (1 - ts[i]) * std::log(1 - p)));
  }
  EXPECT_TRUE(tensors_near(binary_cross_entropy_with_logits(x, t, Tensor(), Reduction::None), f64(expected, {5}),
                           1e-12, 1e-12));
  double total = 0;
  for (double e : expected) total += e;
  EXPECT_NEAR(binary_cross_entropy_with_logits(x, t, Tensor(), Reduction::Sum).item(), total, 1e-12);
  EXPECT_NEAR(binary_cross_entropy_with_logits(x, t).item(), total / 5, 1e-12);
}

TEST(Loss, BceWeightBroadcastsOverRows) {
  const Tensor x = randn64({3, 4}, 1, false), t = binary_targets({3, 4}, 2);
  const Tensor w = f64({0.5, 1.0, 2.0, 0.0}, {4});
  const Tensor weighted = binary_cross_entropy_with_logits(x, t, w, Reduction::None);
  const Tensor plain = binary_cross_entropy_with_logits(x, t, Tensor(), Reduction::None);
  EXPECT_TRUE(tensors_near(weighted, plain * w, 1e-15));
}

TEST(Loss, FocalGammaZeroWithoutAlphaIsBce) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Tensor x = (randn64({6, 7}, 3, false) * 4.0).to(dt).detach();
    const Tensor t = binary_targets({6, 7}, 4, dt);
    x.set_requires_grad(true);
    const Tensor focal = sigmoid_focal_loss(x, t, {-1.0, 0.0}, Tensor(), Reduction::None);
    const Tensor bce = binary_cross_entropy_with_logits(x, t, Tensor(), Reduction::None);
    EXPECT_TRUE(tensors_near(focal, bce, 0));
    sum(focal).backward();
    const Tensor focal_grad = x.grad();
    x.zero_grad();
    sum(bce).backward();
    EXPECT_TRUE(tensors_near(focal_grad, x.grad(), 0));
  }
}

TEST(Loss, FocalMatchesDefinition) {
  // Direct transcription of the paper's FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t).
  const Tensor x = f64({-2.0, -0.3, 0.4, 1.5, 3.0, -1.0}, {6});
  const Tensor t = f64({0, 1, 0, 1, 0, 1}, {6});
  const double alpha = 0.25, gamma = 2.0;
  const auto xs = x.to_vector<double>(), ts = t.to_vector<double>();
  std::vector<double> expected;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double p = 1 / (1 + std::exp(-xs[i]));
    const double pt = ts[i] == 1 ? p : 1 - p;
    const double at = ts[i] == 1 ? alpha : 1 - alpha;
    expected.push_back(-at * std::pow(1 - pt, gamma) * std::log(pt));
  }
  EXPECT_TRUE(tensors_near(sigmoid_focal_loss(x, t, {alpha, gamma}, Tensor(), Reduction::None), f64(expected, {6}),
                           1e-12, 1e-10));
}

TEST(Loss, FocalIgnoredElementsGiveExactZeros) {
  Tensor x = f64({1.0, -2.0, 0.5, 3.0, -0.1, 2.0}, {2, 3}, true);
  const Tensor t = f64({1, 0, 0, 1, 1, 0}, {2, 3});
  const Tensor w = f64({1, 0, 1, 0, 1, 0}, {2, 3});
  const Tensor loss = sigmoid_focal_loss(x, t, {}, w, Reduction::None);
  sum(loss).backward();
  const auto lv = loss.to_vector<double>(), gv = x.grad().to_vector<double>(), wv = w.to_vector<double>();
  for (size_t i = 0; i < wv.size(); ++i) {
    if (wv[i] == 0) {
      EXPECT_EQ(lv[i], 0.0) << i;
      EXPECT_EQ(gv[i], 0.0) << i;
    } else {
      EXPECT_GT(lv[i], 0.0) << i;
      EXPECT_NE(gv[i], 0.0) << i;
    }
  }
  // Even a non-finite logit contributes nothing when ignored.
  const Tensor bad = f64({INFINITY, NAN}, {2});
  const Tensor loss_bad = sigmoid_focal_loss(bad, f64({1, 0}, {2}), {}, f64({0, 0}, {2}), Reduction::Sum);
  EXPECT_EQ(loss_bad.item(), 0.0);
}

TEST(Loss, LargeLogitsStayFinite) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    const TensorOptions opts{dt};
    Tensor x = from_vector<double>({100, -100, 100, -100, 1e4, -1e4}, {6}, opts);
    x.set_requires_grad(true);
    const Tensor t = from_vector<double>({1, 1, 0, 0, 0, 1}, {6}, opts);
    for (int which = 0; which < 2; ++which) {
      x.zero_grad();
      const Tensor loss = which == 0 ? sigmoid_focal_loss(x, t, {}, Tensor(), Reduction::None)
                                     : binary_cross_entropy_with_logits(x, t, Tensor(), Reduction::None);
      sum(loss).backward();
      const auto lv = loss.to_vector<double>(), gv = x.grad().to_vector<double>();
      for (size_t i = 0; i < lv.size(); ++i) {
        EXPECT_TRUE(std::isfinite(lv[i])) << which << " " << i << " " << lv[i];
        EXPECT_TRUE(std::isfinite(gv[i])) << which << " " << i << " " << gv[i];
      }
      // Confidently wrong: loss ~ |x| (times alpha_t for focal), gradient ~ -+1 (times alpha_t).
      const double at_pos = which == 0 ? 0.25 : 1.0, at_neg = which == 0 ? 0.75 : 1.0;
      EXPECT_NEAR(lv[1], 100 * at_pos, 1e-3);
      EXPECT_NEAR(lv[2], 100 * at_neg, 1e-3);
      EXPECT_NEAR(gv[1], -at_pos, 1e-6);
      EXPECT_NEAR(gv[2], at_neg, 1e-6);
      // Confidently right: loss and gradient ~ 0.
      EXPECT_NEAR(lv[0], 0, 1e-20);
      EXPECT_NEAR(gv[0], 0, 1e-20);
    }
  }
}

TEST(Loss, SmoothL1AndL1Values) {
  const Tensor p = f64({-2.0, -0.05, 0.0, 0.05, 0.5, 3.0}, {6});
  const Tensor t = zeros({6}, {DType::Float64});
  const double beta = 0.1;
  std::vector<double> smooth, l1;
  for (double d : p.to_vector<double>()) {
    smooth.push_back(std::abs(d) < beta ? 0.5 * d * d / beta : std::abs(d) - 0.5 * beta);
    l1.push_back(std::abs(d));
  }
  EXPECT_TRUE(tensors_near(smooth_l1_loss(p, t, beta, Reduction::None), f64(smooth, {6}), 1e-15));
  EXPECT_TRUE(tensors_near(l1_loss(p, t, Reduction::None), f64(l1, {6}), 0));
  EXPECT_TRUE(tensors_near(smooth_l1_loss(p, t, 0.0, Reduction::None), f64(l1, {6}), 0));
  EXPECT_NEAR(l1_loss(p, t).item(), (2 + 0.05 + 0 + 0.05 + 0.5 + 3) / 6, 1e-15);
}

TEST(Loss, L1GradientIsZeroWhereEqual) {
  Tensor p = f64({1.0, 2.0, 3.0}, {3}, true);
  l1_loss(p, f64({1.0, 1.0, 4.0}, {3}), Reduction::Sum).backward();
  EXPECT_EQ(p.grad().to_vector<double>(), (std::vector<double>{0.0, 1.0, -1.0}));
}

TEST(Loss, MeanBackwardDividesByCount) {
  Tensor p = f64({1.0, 2.0, 3.0, 4.0}, {2, 2}, true);
  l1_loss(p, zeros({2, 2}, {DType::Float64})).backward();
  EXPECT_EQ(p.grad().to_vector<double>(), (std::vector<double>{0.25, 0.25, 0.25, 0.25}));
}

TEST(Loss, NonContiguousInputs) {
  const Tensor x = randn64({4, 3}, 5, false), t = binary_targets({4, 3}, 6);
  const Tensor a = sigmoid_focal_loss(x.transpose(0, 1), t.transpose(0, 1), {}, Tensor(), Reduction::None);
  const Tensor b = sigmoid_focal_loss(x.transpose(0, 1).contiguous(), t.transpose(0, 1).contiguous(), {}, Tensor(),
                                      Reduction::None);
  EXPECT_TRUE(tensors_near(a, b, 0));
}

TEST(Loss, EmptyInputs) {
  const Tensor x = zeros({0, 4}, {DType::Float64}), t = zeros({0, 4}, {DType::Float64});
  EXPECT_EQ(sigmoid_focal_loss(x, t, {}, Tensor(), Reduction::Sum).item(), 0.0);
  EXPECT_EQ(binary_cross_entropy_with_logits(x, t, Tensor(), Reduction::None).shape(), (Shape{0, 4}));
  EXPECT_TRUE(std::isnan(l1_loss(x, t, Reduction::Mean).item()));  // as PyTorch: mean of nothing
}

TEST(Loss, TargetsGetNoGradient) {
  Tensor x = randn64({3}, 7), t = rand64({3}, 8, 0, 1);
  binary_cross_entropy_with_logits(x, t, Tensor(), Reduction::Sum).backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(t.grad().defined());
}

TEST(Loss, ErrorMessagesNameShapesAndValues) {
  const Tensor x = zeros({2, 3}, {DType::Float64});
  std::string msg = test::error_message([&] { l1_loss(x, zeros({3, 2}, {DType::Float64})); });
  EXPECT_NE(msg.find("(2, 3)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(3, 2)"), std::string::npos) << msg;
  msg = test::error_message([&] { binary_cross_entropy_with_logits(x, x, zeros({4}, {DType::Float64})); });
  EXPECT_NE(msg.find("(4,)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(2, 3)"), std::string::npos) << msg;
  msg = test::error_message([&] { sigmoid_focal_loss(x, x, {0.25, -1.0}); });
  EXPECT_NE(msg.find("gamma"), std::string::npos) << msg;
  EXPECT_NE(msg.find("-1"), std::string::npos) << msg;
  msg = test::error_message([&] { smooth_l1_loss(x, x, -0.5); });
  EXPECT_NE(msg.find("-0.5"), std::string::npos) << msg;
  msg = test::error_message([&] { l1_loss(x, zeros({2, 3}, {DType::Float32})); });
  EXPECT_NE(msg.find("float32"), std::string::npos) << msg;
  msg = test::error_message([&] { sigmoid_focal_loss(x, x, {1.5, 2.0}); });
  EXPECT_NE(msg.find("1.5"), std::string::npos) << msg;
}

}  // namespace
}  // namespace maskdet
