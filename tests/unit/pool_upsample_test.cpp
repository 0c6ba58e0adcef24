// max_pool2d and upsample_nearest2d: output sizes (ceil_mode included), forward values,
// gradient routing, and validation messages. Expected sizes and indices follow PyTorch's rules.
#include <cmath>
#include <limits>

#include "op_test_helpers.h"
#include "tensor/kernels/pool.h"

namespace maskdet {
namespace {
using test::expect_error_containing;
using test::f64;

Pool2dOptions square(int64_t kernel, int64_t stride, int64_t pad, bool ceil_mode = false) {
  return {kernel, kernel, stride, stride, pad, pad, ceil_mode};
}

// ---- max_pool2d ----

TEST(MaxPool2d, OutputSizeRule) {
  struct Case {
    int64_t in, kernel, stride, pad;
    bool ceil_mode;
    int64_t expected;
  };
  const Case cases[] = {
      {6, 3, 2, 0, false, 2}, {6, 3, 2, 0, true, 3},    // ceil adds a clipped last window
      {5, 2, 2, 0, false, 2}, {5, 2, 2, 0, true, 3},
      {3, 2, 2, 1, false, 2}, {3, 2, 2, 1, true, 2},    // the extra window would start in the right padding
      {7, 3, 2, 1, false, 4}, {7, 3, 2, 1, true, 4},    // ResNet's stem pool on an odd size
      {8, 3, 2, 1, false, 4}, {8, 3, 2, 1, true, 5},
      {1, 1, 1, 0, false, 1}, {2, 3, 1, 1, true, 2},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(pool_output_size(c.in, c.kernel, c.stride, c.pad, c.ceil_mode), c.expected)
        << "in " << c.in << " kernel " << c.kernel << " stride " << c.stride << " pad " << c.pad << " ceil "
        << c.ceil_mode;
    Tensor x = zeros({1, 1, c.in, c.in + 1}, {DType::Float64});
    Tensor y = max_pool2d(x, square(c.kernel, c.stride, c.pad, c.ceil_mode));
    EXPECT_EQ(y.size(2), c.expected);
    EXPECT_EQ(y.size(3), pool_output_size(c.in + 1, c.kernel, c.stride, c.pad, c.ceil_mode));
  }
}

TEST(MaxPool2d, ForwardValuesAndPaddingActsAsMinusInfinity) {
  Tensor x = arange(0, 16, 1, {DType::Float64}).reshape({1, 1, 4, 4});
  EXPECT_EQ(max_pool2d(x, square(2, 2, 0)).to_vector<double>(), (std::vector<double>{5, 7, 13, 15}));
  // All values negative: a zero padding would win, -inf padding does not.
  Tensor neg = x * -1.0 - 1.0;
  EXPECT_EQ(max_pool2d(neg, square(3, 2, 1)).to_vector<double>(), (std::vector<double>{-1, -2, -5, -6}));
}

TEST(MaxPool2d, CeilModeClipsTheLastWindow) {
  Tensor x = arange(0, 25, 1, {DType::Float64}).reshape({1, 1, 5, 5});
  Tensor y = max_pool2d(x, square(2, 2, 0, true));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{6, 8, 9, 16, 18, 19, 21, 23, 24}));
}

TEST(MaxPool2d, OverlappingWindowsAccumulateGradient) {
  // The centre is the maximum of all four 2x2 windows of a 3x3 input.
  Tensor x = f64({0, 1, 0, 2, 9, 3, 0, 4, 0}, {1, 1, 3, 3}).set_requires_grad(true);
  Tensor y = max_pool2d(x, square(2, 1, 0));
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{9, 9, 9, 9}));
  y.sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 0, 0, 4, 0, 0, 0, 0}));
}

TEST(MaxPool2d, TiesGoToTheFirstMaximumAndNanWins) {
  Tensor x = f64({1, 1, 1, 1}, {1, 1, 2, 2}).set_requires_grad(true);
  max_pool2d(x, square(2, 2, 0)).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 0, 0, 0}));
  Tensor with_nan = f64({1, std::nan(""), 3, 2}, {1, 1, 2, 2});
  EXPECT_TRUE(std::isnan(max_pool2d(with_nan, square(2, 2, 0)).item()));
}

TEST(MaxPool2d, Float32ManyPlanesAndNonContiguousInput) {
  Tensor x = test::randn64({3, 5, 6, 7}, 1, false);
  Tensor expected = max_pool2d(x, square(3, 2, 1));
  Tensor x32 = x.to(DType::Float32);
  EXPECT_TRUE(test::tensors_near(max_pool2d(x32, square(3, 2, 1)), expected, 1e-6));
  // Pooling a permuted view equals pooling its contiguous copy.
  Tensor permuted = x.permute({1, 0, 2, 3});
  EXPECT_TRUE(test::tensors_near(max_pool2d(permuted, square(3, 2, 1)),
                                 max_pool2d(permuted.contiguous(), square(3, 2, 1)), 0));
}

TEST(MaxPool2d, ValidationMessages) {
  Tensor x = zeros({1, 1, 4, 4}, {DType::Float64});
  expect_error_containing([&] { max_pool2d(x, square(2, 2, 2)); }, "at most half the kernel size");
  expect_error_containing([&] { max_pool2d(x, square(5, 1, 0)); }, "too small");
  expect_error_containing([&] { max_pool2d(x, square(2, 0, 0)); }, "must be positive");
  expect_error_containing([&] { max_pool2d(zeros({4, 4}, {DType::Float64}), square(2, 2, 0)); }, "got shape (4, 4)");
  expect_error_containing([&] { max_pool2d(zeros({1, 1, 0, 0}, {DType::Float64}), square(2, 2, 1)); },
                          "empty spatial dim");
  // An empty batch is fine.
  EXPECT_EQ(max_pool2d(zeros({0, 3, 4, 4}), square(2, 2, 0)).shape(), (Shape{0, 3, 2, 2}));
}

// ---- upsample_nearest2d ----

TEST(UpsampleNearest2d, TimesTwoRepeatsPixels) {
  Tensor x = f64({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = upsample_nearest2d(x, 2.0);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  EXPECT_TRUE(test::tensors_near(upsample_nearest2d(x, 4, 4), y, 0));
}

// Row 0 of upsampling the single row 0, 1, ..., in_w - 1.
std::vector<double> upsampled_columns(int64_t in_w, int64_t out_w) {
  Tensor x = arange(0, static_cast<double>(in_w), 1, {DType::Float64}).reshape({1, 1, 1, in_w});
  return upsample_nearest2d(x, 1, out_w).to_vector<double>();
}

TEST(UpsampleNearest2d, SourceIndexRuleAtOddSizes) {
  EXPECT_EQ(upsampled_columns(3, 7), (std::vector<double>{0, 0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(upsampled_columns(4, 3), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(upsampled_columns(5, 8), (std::vector<double>{0, 0, 1, 1, 2, 3, 3, 4}));
  EXPECT_EQ(upsampled_columns(3, 3), (std::vector<double>{0, 1, 2}));
}

TEST(UpsampleNearest2d, ScaleFactorMapsBackWithTheScaleNotTheSizes) {
  // 5 columns at scale 1.7 give floor(8.5) = 8 outputs; PyTorch maps output 5 back with
  // 1 / 1.7 (to 2), whereas the sizes 5 / 8 would give 3.
  Tensor x = arange(0, 5, 1, {DType::Float64}).reshape({1, 1, 1, 5});
  Tensor y = upsample_nearest2d(x, 1.7);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 1, 8}));
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{0, 0, 1, 1, 2, 2, 3, 4}));
}

TEST(UpsampleNearest2d, BackwardSumsEveryCopy) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {1, 1, 2, 3}).set_requires_grad(true);
  upsample_nearest2d(x, 3, 7).sum().backward();
  // Rows: 2 -> 3 gives sources 0, 0, 1; columns 3 -> 7 gives 0, 0, 0, 1, 1, 2, 2.
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{6, 4, 4, 3, 2, 2}));
}

TEST(UpsampleNearest2d, ValidationMessages) {
  Tensor x = zeros({1, 1, 2, 2}, {DType::Float64});
  expect_error_containing([&] { upsample_nearest2d(x, 0.0); }, "scale must be positive");
  expect_error_containing([&] { upsample_nearest2d(x, 0.2); }, "output size (0, 0) must be positive");
  expect_error_containing([&] { upsample_nearest2d(zeros({2, 2}), 2.0); }, "got shape (2, 2)");
}

}  // namespace
}  // namespace maskdet
