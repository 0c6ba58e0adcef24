// Initialisers: the statistics they promise on large tensors, fans, gains, determinism, the
// prior-probability bias, and the default initialisation of Conv2d and Linear.
#include <gtest/gtest.h>

#include <cmath>

#include "layers/conv2d.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "tensor/creation.h"

namespace maskdet::nn {
namespace {

struct Moments {
  double mean = 0, std = 0, max_abs = 0;
};

Moments moments_of(const Tensor& t) {
  const auto v = t.to_vector<double>();
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (double x : v) {
    m.std += (x - m.mean) * (x - m.mean);
    m.max_abs = std::max(m.max_abs, std::abs(x));
  }
  m.std = std::sqrt(m.std / static_cast<double>(v.size()));
  return m;
}

TEST(Init, FansAndGains) {
  const init::Fans fans = init::calculate_fans(empty({64, 32, 3, 3}));
  EXPECT_EQ(fans.fan_in, 32 * 9);
  EXPECT_EQ(fans.fan_out, 64 * 9);
  EXPECT_EQ(init::calculate_fans(empty({10, 20})).fan_in, 20);
  EXPECT_THROW(init::calculate_fans(empty({10})), Error);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::ReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::Tanh), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::Linear), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::LeakyReLU, std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
}

TEST(Init, KaimingNormalStd) {
  Tensor w = empty({256, 128, 3, 3});
  Generator gen(11);
  init::kaiming_normal_(w, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU, &gen);
  const Moments m = moments_of(w);
  const double expected = std::sqrt(2.0 / (256 * 9));
  EXPECT_NEAR(m.std, expected, 0.02 * expected);
  EXPECT_NEAR(m.mean, 0.0, 0.01 * expected);
}

TEST(Init, KaimingUniformStdAndBound) {
  Tensor w = empty({256, 128, 3, 3}, {DType::Float64});
  Generator gen(12);
  init::kaiming_uniform_(w, 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU, &gen);
  const Moments m = moments_of(w);
  const double expected = std::sqrt(2.0 / (128 * 9));
  EXPECT_NEAR(m.std, expected, 0.02 * expected);
  EXPECT_LE(m.max_abs, std::sqrt(3.0) * expected);
  EXPECT_GT(m.max_abs, 0.99 * std::sqrt(3.0) * expected);
}

TEST(Init, NormalUniformConstant) {
  Tensor t = empty({100000});
  Generator gen(13);
  init::normal_(t, 0.01, 0.5, &gen);
  Moments m = moments_of(t);
  EXPECT_NEAR(m.mean, 0.5, 1e-3);
  EXPECT_NEAR(m.std, 0.01, 2e-4);

  init::uniform_(t, -2.0, 4.0, &gen);
  m = moments_of(t);
  EXPECT_NEAR(m.mean, 1.0, 0.03);
  EXPECT_NEAR(m.std, 6.0 / std::sqrt(12.0), 0.02);
  EXPECT_LE(m.max_abs, 4.0);

  init::constant_(t, 2.5);
  EXPECT_EQ(moments_of(t).mean, 2.5);
  init::zeros_(t);
  EXPECT_EQ(moments_of(t).max_abs, 0.0);
  init::ones_(t);
  EXPECT_EQ(moments_of(t).mean, 1.0);
  EXPECT_THROW(init::normal_(zeros({3}, {DType::Int64})), Error);
}

TEST(Init, SameGeneratorSeedSameValues) {
  Tensor a = empty({5, 7}), b = empty({5, 7});
  Generator ga(21), gb(21);
  init::kaiming_normal_(a, 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU, &ga);
  init::kaiming_normal_(b, 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU, &gb);
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
}

TEST(Init, InPlaceKeepsHandleAndGradFlag) {
  Tensor w = zeros({4, 4}).set_requires_grad(true);
  const auto impl = w.impl();
  const auto storage = w.storage();
  init::normal_(w, 1.0);
  EXPECT_EQ(w.impl(), impl);
  EXPECT_EQ(w.storage(), storage);
  EXPECT_TRUE(w.requires_grad());
  EXPECT_FALSE(w.grad_fn());
  EXPECT_NE(moments_of(w).max_abs, 0.0);
}

TEST(Init, PriorProbabilityBias) {
  Tensor bias = empty({9});
  init::prior_probability_bias_(bias);
  for (double v : bias.to_vector<double>()) EXPECT_NEAR(v, -std::log(99.0), 1e-6);  // -4.59512
  // sigmoid(bias) is the prior again.
  EXPECT_NEAR(1.0 / (1.0 + std::exp(-bias.to_vector<double>()[0])), 0.01, 1e-7);
  init::prior_probability_bias_(bias, 0.5);
  EXPECT_EQ(bias.to_vector<double>()[0], 0.0);
  EXPECT_THROW(init::prior_probability_bias_(bias, 1.0), Error);
}

TEST(Init, ConvAndLinearDefaultsStayWithinOneOverSqrtFanIn) {
  manual_seed(31);
  auto conv = std::make_shared<Conv2d>(16, 32, 3);
  const double conv_bound = 1.0 / std::sqrt(16.0 * 9.0);
  EXPECT_LE(moments_of(conv->weight()).max_abs, conv_bound);
  EXPECT_GT(moments_of(conv->weight()).max_abs, 0.95 * conv_bound);
  EXPECT_NEAR(moments_of(conv->weight()).std, conv_bound / std::sqrt(3.0), 0.05 * conv_bound);
  EXPECT_LE(moments_of(conv->bias()).max_abs, conv_bound);

  auto linear = std::make_shared<Linear>(100, 50);
  EXPECT_LE(moments_of(linear->weight()).max_abs, 0.1);
  EXPECT_GT(moments_of(linear->weight()).max_abs, 0.095);
  EXPECT_LE(moments_of(linear->bias()).max_abs, 0.1);
}

}  // namespace
}  // namespace maskdet::nn
