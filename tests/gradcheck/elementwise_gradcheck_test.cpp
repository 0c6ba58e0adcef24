// Gradient checks for elementwise ops and reductions (float64, central differences).
#include "test_util.h"

namespace maskdet {
namespace {
using test::rand64;
using test::randn64;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

TEST(Gradcheck, AddBroadcast) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return add(v[0], v[1]); },
                   {randn64({2, 3, 4}, 1), randn64({3, 1}, 2)});
}
TEST(Gradcheck, SubBroadcast) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return sub(v[0], v[1]); },
                   {randn64({4}, 3), randn64({2, 1, 4}, 4)});
}
TEST(Gradcheck, MulBroadcast) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return mul(v[0], v[1]); },
                   {randn64({2, 3, 1}, 5), randn64({1, 4}, 6)});
}
TEST(Gradcheck, DivBroadcast) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return div(v[0], v[1]); },
                   {randn64({2, 3}, 7), rand64({3}, 8, 0.5, 2.0)});
}
TEST(Gradcheck, MaximumMinimum) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return maximum(v[0], v[1]) + minimum(v[0], v[1]) * 2.0; },
                   {randn64({3, 4}, 9), randn64({4}, 10)});
}
TEST(Gradcheck, Neg) { EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return neg(v[0]); }, {randn64({5}, 11)}); }
TEST(Gradcheck, Exp) { EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return exp(v[0]); }, {randn64({2, 5}, 12)}); }
TEST(Gradcheck, Log) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return log(v[0]); }, {rand64({2, 5}, 13, 0.2, 3.0)});
}
TEST(Gradcheck, Sigmoid) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return sigmoid(v[0]); }, {randn64({3, 4}, 14)});
}
TEST(Gradcheck, Relu) {
  // Values kept away from the kink at 0, where the numeric derivative is undefined.
  Tensor x = randn64({20}, 15, false);
  x = where(gt(x.abs(), full({}, 0.01, {DType::Float64})), x, full({}, 0.5, {DType::Float64}));
  x.set_requires_grad(true);
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return relu(v[0]); }, {x});
}
TEST(Gradcheck, Abs) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return abs(v[0]); }, {rand64({10}, 16, 0.1, 2.0) * -1.0 + 1.0});
}
TEST(Gradcheck, Clamp) {
  Tensor x = from_vector<double>({-2.0, -0.3, 0.1, 0.45, 1.7, 3.0}, {6}, {DType::Float64, Device::cpu(), true});
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return clamp(v[0], -0.5, 1.0); }, {x});
}
TEST(Gradcheck, PowScalar) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return pow(v[0], 2.5); }, {rand64({6}, 17, 0.3, 2.0)});
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return pow(v[0], -1.0); }, {rand64({6}, 18, 0.3, 2.0)});
}
TEST(Gradcheck, Sqrt) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return sqrt(v[0]); }, {rand64({6}, 19, 0.3, 2.0)});
}
TEST(Gradcheck, WhereMask) {
  Tensor m = gt(randn64({3, 4}, 20, false), zeros({}, {DType::Float64}));
  EXPECT_GRADCHECK([m](const std::vector<Tensor>& v) { return where(m, v[0], v[1]); },
                   {randn64({3, 4}, 21), randn64({4}, 22)});
}
TEST(Gradcheck, SumOverDims) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return sum(v[0], {0, 2}); }, {randn64({2, 3, 4}, 23)});
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return sum(v[0], {-1}, true); }, {randn64({2, 3, 4}, 24)});
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return sum(v[0]); }, {randn64({2, 3}, 25)});
}
TEST(Gradcheck, MeanOverDims) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return mean(v[0], {1}); }, {randn64({2, 3, 4}, 26)});
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return mean(v[0]); }, {randn64({5}, 27)});
}
TEST(Gradcheck, ViewsPermuteSliceExpand) {
  EXPECT_GRADCHECK(
      [](const std::vector<Tensor>& v) {
        return v[0].permute({2, 0, 1}).slice(1, 0, 2).reshape({4, 4}).expand({3, 4, 4}) * v[1];
      },
      {randn64({2, 2, 4}, 28), randn64({4}, 29)});
}
TEST(Gradcheck, DtypeAndContiguousCopies) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return v[0].transpose(0, 1).contiguous().clone() * 2.0; },
                   {randn64({3, 2}, 30)});
}

}  // namespace
}  // namespace maskdet
