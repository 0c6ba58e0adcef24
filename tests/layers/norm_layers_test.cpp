// Normalisation layers: BatchNorm2d in train and eval mode, FrozenBatchNorm2d against
// batch_norm in eval mode, GroupNorm against the formula written with elementwise ops.
#include "layers/batch_norm.h"
#include "layers/frozen_batch_norm.h"
#include "layers/group_norm.h"
#include "test_util.h"

namespace maskdet::nn {
namespace {
using maskdet::test::tensors_near;

Tensor channel_vector(const std::vector<float>& values) {
  return from_vector<float>(values, {static_cast<int64_t>(values.size())});
}

TEST(BatchNorm2d, EvalUsesRunningStatisticsTrainUsesTheBatch) {
  auto bn = std::make_shared<BatchNorm2d>(3);
  Generator gen(41);
  const Tensor x = randn({4, 3, 5, 5}, {}, &gen, /*mean=*/2.0, /*std=*/3.0);

  const Tensor train_out = bn->forward(x);
  // Batch statistics: every channel of the output has mean 0 and variance 1.
  EXPECT_TRUE(tensors_near(train_out.mean({0, 2, 3}), zeros({3}), 1e-5));
  EXPECT_EQ(bn->num_batches_tracked().item(), 1.0);
  // One step with momentum 0.1 from mean 0: running_mean is a tenth of the batch mean.
  EXPECT_TRUE(tensors_near(bn->running_mean(), x.mean({0, 2, 3}) * 0.1, 1e-5));

  bn->eval();
  const Tensor eval_out = bn->forward(x);
  EXPECT_EQ(bn->num_batches_tracked().item(), 1.0);  // eval does not count
  EXPECT_FALSE(tensors_near(eval_out, train_out, 1e-2));
  const Tensor expected =
      batch_norm(x, bn->weight(), bn->bias(), bn->running_mean(), bn->running_var(), /*training=*/false);
  EXPECT_TRUE(tensors_near(eval_out, expected, 0));
}

TEST(BatchNorm2d, WithoutRunningStatisticsAlwaysUsesTheBatch) {
  auto bn = std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.num_features = 2, .affine = false,
                                                             .track_running_stats = false});
  EXPECT_TRUE(bn->state_dict().empty());
  Generator gen(42);
  const Tensor x = randn({3, 2, 4, 4}, {}, &gen, 1.0, 2.0);
  const Tensor train_out = bn->forward(x);
  bn->eval();
  EXPECT_TRUE(tensors_near(bn->forward(x), train_out, 0));
  EXPECT_THROW(bn->forward(randn({3, 2}, {}, &gen)), Error);  // BatchNorm2d wants 4-D input
}

TEST(FrozenBatchNorm2d, MatchesBatchNormInEvalMode) {
  auto frozen = std::make_shared<FrozenBatchNorm2d>(4);
  EXPECT_EQ(frozen->parameter_count(), 0);
  frozen->weight().set_data(channel_vector({1.5f, -0.5f, 2.0f, 0.25f}));
  frozen->bias().set_data(channel_vector({0.1f, 0.2f, -0.3f, 0.0f}));
  frozen->running_mean().set_data(channel_vector({0.5f, -1.0f, 0.0f, 3.0f}));
  frozen->running_var().set_data(channel_vector({0.25f, 4.0f, 1.0f, 1e-4f}));
  Generator gen(43);
  Tensor x = randn({2, 4, 3, 3}, {}, &gen).set_requires_grad(true);

  const Tensor out = frozen->forward(x);
  const Tensor expected = batch_norm(x.detach(), frozen->weight(), frozen->bias(), frozen->running_mean(),
                                     frozen->running_var(), /*training=*/false, 0.1, 1e-5);
  EXPECT_TRUE(tensors_near(out, expected, 1e-5, 1e-5));

  // The gradient reaches x (the layer is frozen, not the network below it) and nothing else.
  out.sum().backward();
  ASSERT_TRUE(x.grad().defined());
  const Tensor scale = frozen->weight() / sqrt(frozen->running_var() + 1e-5);
  EXPECT_TRUE(tensors_near(x.grad(), scale.reshape({1, 4, 1, 1}).expand(x.shape()), 1e-5, 1e-5));
  EXPECT_FALSE(frozen->weight().grad().defined());

  // The layer keeps a constant map in both modes.
  frozen->train();
  EXPECT_TRUE(tensors_near(frozen->forward(x.detach()), expected, 1e-5, 1e-5));
}

TEST(GroupNorm, ForwardMatchesTheFormula) {
  auto gn = std::make_shared<GroupNorm>(GroupNormOptions{.num_groups = 3, .num_channels = 6, .eps = 1e-3});
  gn->weight().set_data(from_vector<float>({1, 2, 3, -1, 0.5, 0}, {6}));
  gn->bias().set_data(from_vector<float>({0, 1, -1, 0.5, 0, 2}, {6}));
  Generator gen(44);
  const Tensor x = randn({2, 6, 4, 5}, {DType::Float64}, &gen, 1.0, 3.0);
  gn->to(DType::Float64);

  // (x - mean) / sqrt(var + eps) per (sample, group of 2 channels), then weight and bias per channel.
  const Tensor grouped = x.reshape({2, 3, 2 * 4 * 5});
  const Tensor mean = grouped.mean({2}, true);
  const Tensor var = (grouped - mean).pow(2.0).mean({2}, true);
  const Tensor normalised = ((grouped - mean) / sqrt(var + 1e-3)).reshape(x.shape());
  const Tensor expected = normalised * gn->weight().reshape({1, 6, 1, 1}) + gn->bias().reshape({1, 6, 1, 1});
  EXPECT_TRUE(tensors_near(gn->forward(x), expected, 1e-12));

  // The same in eval mode (no running statistics), and in float32.
  gn->eval();
  EXPECT_TRUE(tensors_near(gn->forward(x), expected, 1e-12));
  gn->to(DType::Float32);
  EXPECT_TRUE(tensors_near(gn->forward(x.to(DType::Float32)), expected, 1e-5, 1e-5));
  EXPECT_THROW(std::make_shared<GroupNorm>(4, 6), Error);
}

TEST(GroupNorm, WithoutAffineHasNoParameters) {
  auto gn = std::make_shared<GroupNorm>(GroupNormOptions{.num_groups = 2, .num_channels = 4, .affine = false});
  EXPECT_TRUE(gn->state_dict().empty());
  Generator gen(45);
  const Tensor y = gn->forward(randn({3, 4, 6}, {}, &gen, 5.0, 2.0));
  // Each (sample, group) comes out with mean 0.
  EXPECT_TRUE(tensors_near(y.reshape({3, 2, 12}).mean({2}), zeros({3, 2}), 1e-5));
}

}  // namespace
}  // namespace maskdet::nn
