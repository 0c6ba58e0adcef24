// Gradient checks for batch norm (and sync batch norm on one replica), max pooling, nearest upsampling, cat/stack, index_select,
// gather and max (float64, central differences). Ops that pick an argmax get inputs whose
// values are all distinct and far apart compared with gradcheck's eps, so the argmax cannot
// change under the perturbation.
#include <algorithm>
#include <numeric>
#include <random>

#include "test_util.h"

namespace maskdet {
namespace {
using test::randn64;
using Inputs = std::vector<Tensor>;

// The values 0.1 * (0 .. n-1) in a seeded random order, shaped `shape`, requiring grad.
Tensor distinct64(const Shape& shape, uint64_t seed) {
  std::vector<double> values(shape_numel(shape));
  std::iota(values.begin(), values.end(), 0.0);
  std::shuffle(values.begin(), values.end(), std::mt19937_64(seed));
  for (double& v : values) v *= 0.1;
  return from_vector<double>(values, shape, {DType::Float64, Device::cpu(), true});
}

Tensor int64s(const std::vector<int64_t>& values, const Shape& shape) {
  return from_vector<int64_t>(values, shape, {DType::Int64});
}

// ---- batch norm ----

TEST(Gradcheck, BatchNormTraining4dAffine) {
  Tensor running_mean = zeros({3}, {DType::Float64}), running_var = ones({3}, {DType::Float64});
  EXPECT_GRADCHECK(
      [=](const Inputs& v) { return batch_norm(v[0], v[1], v[2], running_mean, running_var, true); },
      (Inputs{randn64({2, 3, 3, 2}, 1), randn64({3}, 2), randn64({3}, 3)}));
}

TEST(Gradcheck, BatchNormTraining4dNoAffineNoRunningStats) {
  EXPECT_GRADCHECK([](const Inputs& v) { return batch_norm(v[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
                   (Inputs{randn64({3, 2, 2, 3}, 4)}));
}

TEST(Gradcheck, BatchNormTraining2d) {
  EXPECT_GRADCHECK([](const Inputs& v) { return batch_norm(v[0], v[1], v[2], Tensor(), Tensor(), true); },
                   (Inputs{randn64({5, 4}, 5), randn64({4}, 6), randn64({4}, 7)}));
  EXPECT_GRADCHECK([](const Inputs& v) { return batch_norm(v[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
                   (Inputs{randn64({5, 4}, 8)}));
}

TEST(Gradcheck, BatchNormTrainingThroughNonContiguousInput) {
  EXPECT_GRADCHECK(
      [](const Inputs& v) {
        return batch_norm(v[0].permute({1, 0, 2, 3}), v[1], Tensor(), Tensor(), Tensor(), true);
      },
      (Inputs{randn64({3, 2, 2, 2}, 9), randn64({3}, 10)}));
}

// One replica whose loss counts half: the weight must cancel out of the input's gradient.
class HalfWeightLoneReplica : public ReplicaSum {
 public:
  void sum(std::vector<double>&, const std::string&) override {}
  double loss_weight() const override { return 0.5; }
};

TEST(Gradcheck, SyncBatchNormOneReplica) {
  const auto replicas = std::make_shared<HalfWeightLoneReplica>();
  Tensor running_mean = zeros({3}, {DType::Float64}), running_var = ones({3}, {DType::Float64});
  EXPECT_GRADCHECK(
      [=](const Inputs& v) { return sync_batch_norm(v[0], v[1], v[2], running_mean, running_var, replicas); },
      (Inputs{randn64({2, 3, 3, 2}, 21), randn64({3}, 22), randn64({3}, 23)}));
}

TEST(Gradcheck, BatchNormEval) {
  Tensor running_mean = randn64({3}, 11, false), running_var = test::rand64({3}, 12, 0.5, 2.0, false);
  EXPECT_GRADCHECK(
      [=](const Inputs& v) { return batch_norm(v[0], v[1], v[2], running_mean, running_var, false); },
      (Inputs{randn64({2, 3, 2, 2}, 13), randn64({3}, 14), randn64({3}, 15)}));
  EXPECT_GRADCHECK([=](const Inputs& v) { return batch_norm(v[0], Tensor(), Tensor(), running_mean, running_var, false); },
                   (Inputs{randn64({4, 3}, 16)}));
}

// ---- pooling and upsampling ----

TEST(Gradcheck, MaxPool2dKernel3Stride2Pad1) {
  Pool2dOptions o{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1};
  EXPECT_GRADCHECK([o](const Inputs& v) { return max_pool2d(v[0], o); }, (Inputs{distinct64({2, 2, 7, 6}, 17)}));
}

TEST(Gradcheck, MaxPool2dCeilModeAndOverlap) {
  // 3x3 windows with stride 2 on 6 columns: ceil_mode adds a clipped last window.
  Pool2dOptions o{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2, .ceil_mode = true};
  EXPECT_GRADCHECK([o](const Inputs& v) { return max_pool2d(v[0], o); }, (Inputs{distinct64({1, 2, 5, 6}, 18)}));
  Pool2dOptions rect{.kernel_h = 2, .kernel_w = 3, .stride_h = 1, .stride_w = 2, .pad_h = 1, .pad_w = 0};
  EXPECT_GRADCHECK([rect](const Inputs& v) { return max_pool2d(v[0], rect); },
                   (Inputs{distinct64({1, 1, 4, 7}, 19)}));
}

TEST(Gradcheck, UpsampleNearestTimesTwo) {
  EXPECT_GRADCHECK([](const Inputs& v) { return upsample_nearest2d(v[0], 2.0); }, (Inputs{randn64({2, 2, 3, 2}, 20)}));
}

TEST(Gradcheck, UpsampleNearestToOddSize) {
  EXPECT_GRADCHECK([](const Inputs& v) { return upsample_nearest2d(v[0], 7, 5); }, (Inputs{randn64({1, 2, 3, 4}, 21)}));
}

// ---- joining and indexing ----

TEST(Gradcheck, CatThreeInputs) {
  EXPECT_GRADCHECK([](const Inputs& v) { return cat(v, 0); },
                   (Inputs{randn64({2, 3}, 22), randn64({1, 3}, 23), randn64({4, 3}, 24)}));
  EXPECT_GRADCHECK([](const Inputs& v) { return cat(v, 1); },
                   (Inputs{randn64({2, 1, 2}, 25), randn64({2, 3, 2}, 26), randn64({2, 2, 2}, 27)}));
}

TEST(Gradcheck, Stack) {
  EXPECT_GRADCHECK([](const Inputs& v) { return stack(v, 1); },
                   (Inputs{randn64({2, 3}, 28), randn64({2, 3}, 29), randn64({2, 3}, 30)}));
}

TEST(Gradcheck, IndexSelectWithRepeatedIndices) {
  Tensor index = int64s({2, 0, 2, 2, 1}, {5});
  EXPECT_GRADCHECK([=](const Inputs& v) { return index_select(v[0], 1, index); }, (Inputs{randn64({2, 4, 3}, 31)}));
  EXPECT_GRADCHECK([=](const Inputs& v) { return index_select(v[0], 0, index); }, (Inputs{randn64({3, 2}, 32)}));
}

TEST(Gradcheck, Gather) {
  Tensor index = int64s({0, 2, 2, 1, 1, 1}, {2, 3});
  EXPECT_GRADCHECK([=](const Inputs& v) { return gather(v[0], 1, index); }, (Inputs{randn64({2, 4}, 33)}));
  Tensor index0 = int64s({1, 0, 1, 1}, {2, 2});
  EXPECT_GRADCHECK([=](const Inputs& v) { return gather(v[0], 0, index0); }, (Inputs{randn64({3, 2}, 34)}));
}

// ---- max ----

TEST(Gradcheck, MaxOverDim) {
  EXPECT_GRADCHECK([](const Inputs& v) { return max(v[0], 1).values; }, (Inputs{distinct64({2, 4, 3}, 35)}));
  EXPECT_GRADCHECK([](const Inputs& v) { return max(v[0], -1, true).values; }, (Inputs{distinct64({3, 5}, 36)}));
}

TEST(Gradcheck, MaxOverAllElements) {
  EXPECT_GRADCHECK([](const Inputs& v) { return max(v[0]); }, (Inputs{distinct64({3, 4}, 37)}));
}

}  // namespace
}  // namespace maskdet
