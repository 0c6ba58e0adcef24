// Gradient checks for group_norm (float64, central differences): with and without the affine
// parameters, one group and one group per channel, and a (N, C) input.
#include "test_util.h"

namespace maskdet {
namespace {
using test::randn64;

TEST(Gradcheck, GroupNormAffine) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return group_norm(v[0], 3, v[1], v[2]); },
                   {randn64({2, 6, 3, 4}, 31), randn64({6}, 32), randn64({6}, 33)});
}

TEST(Gradcheck, GroupNormNoAffine) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return group_norm(v[0], 2, Tensor(), Tensor(), 1e-3); },
                   {randn64({3, 4, 5}, 34)});
}

TEST(Gradcheck, GroupNormOneGroupAndInstanceNorm) {
  // G = 1 normalises each sample as a whole (layer norm), G = C each channel (instance norm).
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return group_norm(v[0], 1, v[1], v[2]); },
                   {randn64({2, 4, 3, 3}, 35), randn64({4}, 36), randn64({4}, 37)});
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return group_norm(v[0], 4, v[1], v[2]); },
                   {randn64({2, 4, 3, 3}, 38), randn64({4}, 39), randn64({4}, 40)});
}

TEST(Gradcheck, GroupNormTwoDimensionalInputAndFrozenWeight) {
  // Only x requires grad: the weight's gradient is skipped, x's must still be right.
  Tensor weight = randn64({6}, 42, false);
  EXPECT_GRADCHECK([weight](const std::vector<Tensor>& v) { return group_norm(v[0], 2, weight, Tensor()); },
                   {randn64({4, 6}, 41)});
}

}  // namespace
}  // namespace maskdet
