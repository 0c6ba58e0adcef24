// Gradient checks for matmul, linear and conv2d (float64, central differences), covering
// batching, transposed layouts, and every convolution option.
#include "test_util.h"

namespace maskdet {
namespace {
using test::randn64;

TEST(Gradcheck, Matmul2d) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
                   {randn64({3, 4}, 1), randn64({4, 5}, 2)});
}
TEST(Gradcheck, MatmulBatched) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
                   {randn64({2, 3, 4}, 3), randn64({2, 4, 2}, 4)});
}
TEST(Gradcheck, Matmul3dBy2d) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
                   {randn64({2, 3, 4}, 5), randn64({4, 3}, 6)});
}
TEST(Gradcheck, MatmulOfTransposedViews) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return v[0].transpose(0, 1).matmul(v[1].transpose(0, 1)); },
                   {randn64({4, 3}, 7), randn64({2, 4}, 8)});
}
TEST(Gradcheck, LinearWithBias) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); },
                   {randn64({4, 3}, 9), randn64({5, 3}, 10), randn64({5}, 11)});
}
TEST(Gradcheck, LinearWithoutBias) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return linear(v[0], v[1]); },
                   {randn64({2, 6}, 12), randn64({3, 6}, 13)});
}

// conv2d(x, w, b, options) over inputs {x, w, b}; b may be left out.
std::function<Tensor(const std::vector<Tensor>&)> conv_fn(Conv2dOptions options) {
  return [options](const std::vector<Tensor>& v) {
    return conv2d(v[0], v[1], v.size() > 2 ? v[2] : Tensor(), options);
  };
}

TEST(Gradcheck, Conv2dPlain) {
  EXPECT_GRADCHECK(conv_fn({}), {randn64({2, 3, 5, 5}, 20), randn64({4, 3, 3, 3}, 21), randn64({4}, 22)});
}
TEST(Gradcheck, Conv2dStride2Padding1) {
  EXPECT_GRADCHECK(conv_fn(Conv2dOptions().stride(2).padding(1)),
                   {randn64({2, 2, 7, 6}, 23), randn64({3, 2, 3, 3}, 24), randn64({3}, 25)});
}
TEST(Gradcheck, Conv2dDilation2) {
  EXPECT_GRADCHECK(conv_fn(Conv2dOptions().dilation(2).padding(1)),
                   {randn64({1, 2, 7, 7}, 26), randn64({2, 2, 3, 3}, 27), randn64({2}, 28)});
}
TEST(Gradcheck, Conv2dGroups2) {
  EXPECT_GRADCHECK(conv_fn(Conv2dOptions().group_count(2).padding(1)),
                   {randn64({2, 4, 5, 4}, 29), randn64({6, 2, 3, 3}, 30), randn64({6}, 31)});
}
TEST(Gradcheck, Conv2dDepthwise) {
  EXPECT_GRADCHECK(conv_fn(Conv2dOptions().group_count(3).padding(1)),
                   {randn64({2, 3, 5, 5}, 32), randn64({3, 1, 3, 3}, 33), randn64({3}, 34)});
}
// One filter per channel, stride 2 on odd and even sides: the direct depthwise kernel's three
// passes (tensor/cpu/conv2d_depthwise.h), phases of the strided columns included.
TEST(Gradcheck, Conv2dDepthwiseStride2) {
  EXPECT_GRADCHECK(conv_fn(Conv2dOptions().group_count(4).stride(2).padding(1)),
                   {randn64({2, 4, 7, 6}, 60), randn64({4, 1, 3, 3}, 61), randn64({4}, 62)});
}
TEST(Gradcheck, Conv2dDepthwiseUnevenStrideNoBias) {
  Conv2dOptions o = Conv2dOptions().group_count(2);
  o.stride_h = 1, o.stride_w = 3, o.pad_h = 2, o.pad_w = 1;
  EXPECT_GRADCHECK(conv_fn(o), {randn64({2, 2, 5, 8}, 63), randn64({2, 1, 3, 4}, 64)});
}
TEST(Gradcheck, Conv2dWithoutBias) {
  EXPECT_GRADCHECK(conv_fn(Conv2dOptions().padding(1)), {randn64({2, 3, 4, 4}, 35), randn64({2, 3, 3, 3}, 36)});
}
TEST(Gradcheck, Conv2dPointwise) {
  EXPECT_GRADCHECK(conv_fn({}), {randn64({2, 4, 3, 5}, 37), randn64({3, 4, 1, 1}, 38), randn64({3}, 39)});
}
TEST(Gradcheck, Conv2dPointwiseStrided) {
  // 1x1 with stride 2 goes through im2col, unlike the plain pointwise case.
  EXPECT_GRADCHECK(conv_fn(Conv2dOptions().stride(2)), {randn64({1, 3, 5, 5}, 40), randn64({2, 3, 1, 1}, 41)});
}
TEST(Gradcheck, Conv2dNonSquare) {
  Conv2dOptions o;
  o.stride_h = 2, o.stride_w = 1, o.pad_h = 1, o.pad_w = 2, o.dilation_h = 1, o.dilation_w = 2;
  EXPECT_GRADCHECK(conv_fn(o), {randn64({2, 2, 7, 5}, 42), randn64({3, 2, 3, 2}, 43), randn64({3}, 44)});
}
TEST(Gradcheck, Conv2dWinograd) {
  // 3x3 stride 1 with >= 16 channels: the Winograd path, with partial tiles (odd sizes).
  EXPECT_GRADCHECK(conv_fn(Conv2dOptions().padding(1)),
                   {randn64({2, 16, 3, 5}, 49), randn64({16, 16, 3, 3}, 50), randn64({16}, 51)});
  Conv2dOptions uneven;
  uneven.pad_h = 2, uneven.pad_w = 0;
  EXPECT_GRADCHECK(conv_fn(uneven), {randn64({1, 16, 2, 4}, 52), randn64({17, 16, 3, 3}, 53)});
}
TEST(Gradcheck, Conv2dOnlyInputNeedsGrad) {
  Tensor w = randn64({2, 3, 3, 3}, 46, false);
  EXPECT_GRADCHECK([w](const std::vector<Tensor>& v) { return conv2d(v[0], w); }, {randn64({1, 3, 4, 5}, 45)});
}
TEST(Gradcheck, Conv2dNonContiguousInput) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return conv2d(v[0].permute({0, 1, 3, 2}), v[1]); },
                   {randn64({1, 2, 5, 4}, 47), randn64({2, 2, 2, 3}, 48)});
}

}  // namespace
}  // namespace maskdet
