// batch_norm: forward values and running-statistics updates against hand formulas, train vs
// eval, float32, and the input validation messages.
#include <cmath>

#include "op_test_helpers.h"

namespace maskdet {
namespace {
using test::expect_error_containing;
using test::f64;

// x: (N=2, C=2, H=1, W=2); channel 0 holds {1, 2, 3, 6}, channel 1 holds {-1, 0, 4, 1}.
Tensor two_channel_input() { return f64({1, 2, -1, 0, 3, 6, 4, 1}, {2, 2, 1, 2}); }

TEST(BatchNorm, TrainingUpdatesRunningStatisticsWithUnbiasedVariance) {
  Tensor x = two_channel_input();
  Tensor running_mean = f64({0.5, -0.5}, {2}), running_var = f64({2.0, 1.0}, {2});
  batch_norm(x, Tensor(), Tensor(), running_mean, running_var, true, 0.1, 1e-5);
  // Channel 0: mean 3, squared deviations 4 + 1 + 0 + 9 = 14, unbiased var 14 / 3.
  // Channel 1: mean 1, squared deviations 4 + 1 + 9 + 0 = 14, unbiased var 14 / 3.
  EXPECT_NEAR(running_mean.at({0}), 0.9 * 0.5 + 0.1 * 3.0, 1e-12);
  EXPECT_NEAR(running_mean.at({1}), 0.9 * -0.5 + 0.1 * 1.0, 1e-12);
  EXPECT_NEAR(running_var.at({0}), 0.9 * 2.0 + 0.1 * 14.0 / 3.0, 1e-12);
  EXPECT_NEAR(running_var.at({1}), 0.9 * 1.0 + 0.1 * 14.0 / 3.0, 1e-12);
}

TEST(BatchNorm, TrainingNormalisesWithBiasedBatchVariance) {
  Tensor x = two_channel_input();
  Tensor weight = f64({2.0, -1.0}, {2}), bias = f64({0.5, 3.0}, {2});
  Tensor out = batch_norm(x, weight, bias, Tensor(), Tensor(), true, 0.1, 1e-5);
  const double invstd = 1.0 / std::sqrt(14.0 / 4.0 + 1e-5);
  const std::vector<double> xs = x.to_vector<double>();
  const std::vector<double> mean{3, 1}, w{2, -1}, b{0.5, 3};
  const std::vector<double> got = out.to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) {
    const size_t c = (i / 2) % 2;
    EXPECT_NEAR(got[i], (xs[i] - mean[c]) * invstd * w[c] + b[c], 1e-12) << "element " << i;
  }
}

TEST(BatchNorm, EvalUsesRunningStatisticsAndLeavesThemAlone) {
  Tensor x = two_channel_input();
  Tensor running_mean = f64({0.5, -0.5}, {2}), running_var = f64({2.0, 0.25}, {2});
  Tensor weight = f64({2.0, -1.0}, {2}), bias = f64({0.5, 3.0}, {2});
  Tensor out = batch_norm(x, weight, bias, running_mean, running_var, false, 0.1, 0.0);
  const std::vector<double> xs = x.to_vector<double>(), got = out.to_vector<double>();
  const std::vector<double> rm{0.5, -0.5}, rv{2.0, 0.25}, w{2, -1}, b{0.5, 3};
  for (size_t i = 0; i < xs.size(); ++i) {
    const size_t c = (i / 2) % 2;
    EXPECT_NEAR(got[i], (xs[i] - rm[c]) / std::sqrt(rv[c]) * w[c] + b[c], 1e-12) << "element " << i;
  }
  EXPECT_EQ(running_mean.to_vector<double>(), (std::vector<double>{0.5, -0.5}));
  EXPECT_EQ(running_var.to_vector<double>(), (std::vector<double>{2.0, 0.25}));
}

TEST(BatchNorm, TrainAndEvalAgreeOnceRunningStatisticsEqualTheBatchOnes) {
  Tensor x = test::randn64({4, 3, 5, 5}, 1, false);
  Tensor running_mean = zeros({3}, {DType::Float64}), running_var = zeros({3}, {DType::Float64});
  Tensor train = batch_norm(x, Tensor(), Tensor(), running_mean, running_var, true, 1.0, 1e-5);
  // momentum 1 makes the running statistics the batch ones, the variance unbiased: rescale it.
  const double m = 4 * 5 * 5;
  Tensor biased_var = running_var * ((m - 1) / m);
  Tensor eval = batch_norm(x, Tensor(), Tensor(), running_mean, biased_var, false, 0.1, 1e-5);
  EXPECT_TRUE(test::tensors_near(eval, train, 1e-10));
}

TEST(BatchNorm, TwoDimensionalInputMatchesOneByOneImages) {
  Tensor x = test::randn64({6, 4}, 2, false);
  Tensor weight = test::randn64({4}, 3, false), bias = test::randn64({4}, 4, false);
  Tensor flat = batch_norm(x, weight, bias, Tensor(), Tensor(), true);
  Tensor image = batch_norm(x.reshape({6, 4, 1, 1}), weight, bias, Tensor(), Tensor(), true);
  EXPECT_TRUE(test::tensors_near(flat, image.reshape({6, 4}), 1e-12));
}

TEST(BatchNorm, ManyChannelsMatchCompositeReference) {
  // Enough channels to spread over threads; the reference is built from generic ops.
  Tensor x = test::randn64({3, 37, 4, 3}, 5, false) * 3.0 + 1.0;
  Tensor weight = test::randn64({37}, 6, false), bias = test::randn64({37}, 7, false);
  Tensor out = batch_norm(x, weight, bias, Tensor(), Tensor(), true, 0.1, 1e-5);
  Tensor mean = x.mean({0, 2, 3}, true);
  Tensor var = ((x - mean) * (x - mean)).mean({0, 2, 3}, true);
  Tensor expected = (x - mean) / sqrt(var + 1e-5) * weight.reshape({1, 37, 1, 1}) + bias.reshape({1, 37, 1, 1});
  EXPECT_TRUE(test::tensors_near(out, expected, 1e-10));
}

TEST(BatchNorm, Float32MatchesFloat64) {
  Tensor x = test::randn64({4, 3, 2, 2}, 8, false) * 10.0 + 100.0;  // a large mean tests the two-pass variance
  Tensor rm = zeros({3}, {DType::Float32}), rv = ones({3}, {DType::Float32});
  Tensor out32 = batch_norm(x.to(DType::Float32), Tensor(), Tensor(), rm, rv, true);
  Tensor out64 = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  EXPECT_EQ(out32.dtype(), DType::Float32);
  EXPECT_TRUE(test::tensors_near(out32, out64, 1e-4));
}

TEST(BatchNorm, BackwardGivesWeightAndBiasGradientsInEvalMode) {
  Tensor x = two_channel_input();
  Tensor weight = f64({2.0, -1.0}, {2}).set_requires_grad(true), bias = f64({0.5, 3.0}, {2}).set_requires_grad(true);
  Tensor rm = f64({0.5, -0.5}, {2}), rv = f64({4.0, 1.0}, {2});
  batch_norm(x, weight, bias, rm, rv, false, 0.1, 0.0).sum().backward();
  // d/dweight_c = sum (x - rm_c) / sqrt(rv_c): channel 0 (12 - 4 * 0.5) / 2, channel 1 (4 + 4 * 0.5) / 1.
  EXPECT_NEAR(weight.grad().at({0}), 5.0, 1e-12);
  EXPECT_NEAR(weight.grad().at({1}), 6.0, 1e-12);
  EXPECT_EQ(bias.grad().to_vector<double>(), (std::vector<double>{4, 4}));
}

TEST(BatchNorm, ValidationMessages) {
  Tensor x = zeros({2, 3, 4, 4}, {DType::Float64});
  expect_error_containing([&] { batch_norm(x, zeros({5}, {DType::Float64}), Tensor(), Tensor(), Tensor(), true); },
                          "weight has shape (5,), expected (3,)");
  expect_error_containing([&] { batch_norm(x, Tensor(), zeros({3}), Tensor(), Tensor(), true); }, "bias is float32");
  expect_error_containing(
      [&] { batch_norm(zeros({1, 3}, {DType::Float64}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
      "more than 1 value per channel");
  expect_error_containing([&] { batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false); }, "eval mode needs");
  expect_error_containing(
      [&] { batch_norm(x, Tensor(), Tensor(), zeros({3}, {DType::Float64}), Tensor(), true); }, "together");
  expect_error_containing([&] { batch_norm(zeros({4}, {DType::Float64}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
                          "got shape (4,)");
  // A single image is fine in eval mode.
  Tensor one = batch_norm(zeros({1, 3}, {DType::Float64}), Tensor(), Tensor(), zeros({3}, {DType::Float64}),
                          ones({3}, {DType::Float64}), false);
  EXPECT_EQ(one.shape(), (Shape{1, 3}));
}

}  // namespace
}  // namespace maskdet
