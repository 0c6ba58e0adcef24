// matmul, linear, the GEMM kernel and conv2d: forward values (by hand, and against a direct
// six-loop convolution written here as the reference), float32 against float64, empty sizes,
// and the error messages.
#include "tensor/cpu/conv2d_winograd.h"
#include "tensor/kernels/matmul.h"
#include "test_util.h"

namespace maskdet {
namespace {
using test::randn64;
using test::tensors_near;

const TensorOptions f64{DType::Float64};

// Checks that `fn` throws a maskdet::Error whose message contains every one of `parts`.
template <class Fn>
void expect_error_mentions(Fn fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    for (const auto& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

// ---- matmul, linear, gemm ----

TEST(Matmul, ValuesByHand) {
  Tensor a = from_vector<double>({1, 2, 3, 4}, {2, 2}, f64);
  Tensor b = from_vector<double>({5, 6, 7, 8}, {2, 2}, f64);
  EXPECT_EQ(matmul(a, b).to_vector<double>(), (std::vector<double>{19, 22, 43, 50}));
  EXPECT_EQ(a.matmul(b.transpose(0, 1)).to_vector<double>(), (std::vector<double>{17, 23, 39, 53}));
}

TEST(Matmul, BatchedAndSharedRightMatchPerMatrixProducts) {
  Tensor a = randn64({3, 4, 5}, 1, false), b = randn64({3, 5, 2}, 2, false), shared = randn64({5, 2}, 3, false);
  Tensor batched = matmul(a, b), by_shared = matmul(a, shared);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(tensors_near(batched.select(0, i), matmul(a.select(0, i), b.select(0, i)), 1e-12));
    EXPECT_TRUE(tensors_near(by_shared.select(0, i), matmul(a.select(0, i), shared), 1e-12));
  }
}

TEST(Matmul, Float32MatchesFloat64) {
  Tensor a = randn64({7, 33}, 4, false), b = randn64({33, 9}, 5, false);
  EXPECT_TRUE(tensors_near(matmul(a.to(DType::Float32), b.to(DType::Float32)), matmul(a, b), 1e-4, 1e-4));
}

TEST(Matmul, EmptySizes) {
  EXPECT_EQ(matmul(zeros({0, 3}), zeros({3, 4})).shape(), (Shape{0, 4}));
  // An empty inner dimension sums nothing: zeros, and zero gradients.
  const TensorOptions needs_grad{DType::Float64, Device::cpu(), true};
  Tensor a = zeros({2, 0}, needs_grad), b = zeros({0, 3}, needs_grad);
  Tensor c = matmul(a, b);
  EXPECT_EQ(c.to_vector<double>(), std::vector<double>(6, 0.0));
  c.sum().backward();
  EXPECT_EQ(a.grad().shape(), (Shape{2, 0}));
  EXPECT_EQ(b.grad().shape(), (Shape{0, 3}));
  EXPECT_EQ(matmul(zeros({0, 2, 3}), zeros({0, 3, 4})).shape(), (Shape{0, 2, 4}));
  EXPECT_EQ(linear(zeros({0, 3}), zeros({4, 3}), zeros({4})).shape(), (Shape{0, 4}));
}

TEST(Matmul, ShapeErrorsNameBothShapes) {
  expect_error_mentions([] { matmul(zeros({2, 3}), zeros({4, 5})); }, {"(2, 3)", "(4, 5)"});
  expect_error_mentions([] { matmul(zeros({2, 2, 3}), zeros({3, 3, 1})); }, {"(2, 2, 3)", "(3, 3, 1)"});
  expect_error_mentions([] { matmul(zeros({3}), zeros({3, 1})); }, {"(3,)", "(3, 1)"});
  expect_error_mentions([] { matmul(zeros({2, 2}), zeros({2, 2}, f64)); }, {"float32", "float64"});
}

TEST(Gemm, AlphaBetaAndTransposedLayouts) {
  Tensor a = randn64({4, 3}, 6, false), b = randn64({5, 4}, 7, false);
  Tensor out = ones({3, 5}, f64);
  // out = 2 * a^T @ b^T + out, with b passed as a column-major view of its transpose.
  kernels::gemm(a, true, b.transpose(0, 1), false, out, 2.0, 1.0);
  Tensor expected = matmul(a.transpose(0, 1), b.transpose(0, 1)) * 2.0 + 1.0;
  EXPECT_TRUE(tensors_near(out, expected, 1e-12));
  // beta = 0 never reads out, so NaNs there do not survive.
  Tensor nan_out = full({3, 5}, NAN, f64);
  kernels::gemm(a, true, b, true, nan_out, 1.0, 0.0);
  EXPECT_TRUE(tensors_near(nan_out, matmul(a.transpose(0, 1), b.transpose(0, 1)), 1e-12));
  // K = 0 with beta = 0 writes zeros.
  kernels::gemm(zeros({3, 0}, f64), false, zeros({0, 5}, f64), false, nan_out, 1.0, 0.0);
  EXPECT_EQ(nan_out.to_vector<double>(), std::vector<double>(15, 0.0));
}

TEST(Linear, ValuesByHand) {
  Tensor x = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}, f64);
  Tensor w = from_vector<double>({1, 0, -1, 2, 1, 0}, {2, 3}, f64);
  Tensor b = from_vector<double>({10, 20}, {2}, f64);
  EXPECT_EQ(linear(x, w, b).to_vector<double>(), (std::vector<double>{8, 24, 8, 33}));
  EXPECT_EQ(linear(x, w).to_vector<double>(), (std::vector<double>{-2, 4, -2, 13}));
}

TEST(Linear, ErrorsNameTheShapes) {
  expect_error_mentions([] { linear(zeros({2, 3}), zeros({4, 5})); }, {"(2, 3)", "(4, 5)"});
  expect_error_mentions([] { linear(zeros({2, 3}), zeros({4, 3}), zeros({3})); }, {"bias", "(3,)"});
}

// ---- conv2d ----

// The definition, six loops deep: out[n, o, i, j] = b[o] + sum over c, ki, kj of
// x[n, g * C/G + c, i * sh - ph + ki * dh, j * sw - pw + kj * dw] * w[o, c, ki, kj].
Tensor reference_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& o) {
  const int64_t n_ = x.size(0), c_ = x.size(1), h = x.size(2), wd = x.size(3);
  const int64_t oc = w.size(0), cg = w.size(1), kh = w.size(2), kw = w.size(3);
  const int64_t oh = (h + 2 * o.pad_h - o.dilation_h * (kh - 1) - 1) / o.stride_h + 1;
  const int64_t ow = (wd + 2 * o.pad_w - o.dilation_w * (kw - 1) - 1) / o.stride_w + 1;
  const int64_t og = oc / o.groups;
  const auto xv = x.to_vector<double>(), wv = w.to_vector<double>();
  std::vector<double> out(n_ * oc * oh * ow, 0.0);
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t k = 0; k < oc; ++k)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = b.defined() ? b.at({k}) : 0.0;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t ki = 0; ki < kh; ++ki)
              for (int64_t kj = 0; kj < kw; ++kj) {
                const int64_t ih = i * o.stride_h - o.pad_h + ki * o.dilation_h;
                const int64_t iw = j * o.stride_w - o.pad_w + kj * o.dilation_w;
                if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                const int64_t ic = (k / og) * cg + c;
                acc += xv[((n * c_ + ic) * h + ih) * wd + iw] * wv[((k * cg + c) * kh + ki) * kw + kj];
              }
          out[((n * oc + k) * oh + i) * ow + j] = acc;
        }
  return from_vector<double>(out, {n_, oc, oh, ow}, f64);
}

TEST(Conv2d, ValuesByHand) {
  Tensor x = arange(1, 10, 1, f64).reshape({1, 1, 3, 3});
  Tensor w = ones({1, 1, 2, 2}, f64);
  EXPECT_EQ(conv2d(x, w).to_vector<double>(), (std::vector<double>{12, 16, 24, 28}));
  // Padding 1, stride 2: the corners of the padded 4x4 sums.
  EXPECT_EQ(conv2d(x, w, Tensor(), Conv2dOptions().padding(1).stride(2)).to_vector<double>(),
            (std::vector<double>{1, 5, 11, 28}));
}

struct ConvCase {
  const char* name;
  Shape x, w;
  Conv2dOptions options;
  bool bias;
};

TEST(Conv2d, MatchesDirectLoops) {
  Conv2dOptions non_square;
  non_square.stride_h = 2, non_square.pad_w = 2, non_square.dilation_w = 3;
  Conv2dOptions uneven_padding;
  uneven_padding.pad_h = 0, uneven_padding.pad_w = 2;
  Conv2dOptions depthwise_uneven = Conv2dOptions().group_count(3);
  depthwise_uneven.stride_h = 1, depthwise_uneven.stride_w = 2, depthwise_uneven.pad_h = 2, depthwise_uneven.pad_w = 0;
  const std::vector<ConvCase> cases = {
      {"3x3 pad 1", {2, 3, 6, 7}, {4, 3, 3, 3}, Conv2dOptions().padding(1), true},
      {"stride 2", {1, 2, 9, 8}, {3, 2, 3, 3}, Conv2dOptions().stride(2).padding(1), true},
      {"dilation 2", {1, 2, 8, 8}, {2, 2, 3, 3}, Conv2dOptions().dilation(2).padding(2), false},
      {"groups 2", {2, 4, 5, 5}, {6, 2, 3, 3}, Conv2dOptions().group_count(2), true},
      {"depthwise, 2 filters per channel", {1, 3, 5, 6}, {6, 1, 3, 3}, Conv2dOptions().group_count(3).padding(1), true},
      // One filter per channel: the direct depthwise kernel (tensor/cpu/conv2d_depthwise.h).
      {"depthwise 3x3", {2, 4, 7, 6}, {4, 1, 3, 3}, Conv2dOptions().group_count(4).padding(1), true},
      {"depthwise stride 2, odd size", {2, 5, 9, 7}, {5, 1, 3, 3}, Conv2dOptions().group_count(5).stride(2).padding(1), false},
      {"depthwise stride 2, even size", {1, 3, 8, 10}, {3, 1, 3, 3}, Conv2dOptions().group_count(3).stride(2).padding(1), true},
      {"depthwise 5x5 stride 3 pad 0", {1, 2, 11, 13}, {2, 1, 5, 5}, Conv2dOptions().group_count(2).stride(3), true},
      {"depthwise uneven stride and padding", {1, 3, 6, 9}, {3, 1, 3, 2}, depthwise_uneven, true},
      {"1x1", {2, 5, 4, 3}, {3, 5, 1, 1}, Conv2dOptions(), true},
      {"1x1 stride 2", {1, 3, 5, 5}, {2, 3, 1, 1}, Conv2dOptions().stride(2), false},
      {"non-square", {1, 2, 9, 7}, {3, 2, 2, 3}, non_square, true},
      {"padding wider than kernel", {1, 1, 2, 2}, {1, 1, 3, 3}, Conv2dOptions().padding(3).stride(3), true},
      // 3x3 stride 1 with >= 16 channels takes the Winograd path; odd sizes leave partial tiles.
      {"winograd pad 1", {2, 16, 7, 6}, {16, 16, 3, 3}, Conv2dOptions().padding(1), true},
      {"winograd pad 0", {1, 17, 5, 8}, {18, 17, 3, 3}, Conv2dOptions(), true},
      {"winograd pad 2", {1, 16, 4, 5}, {16, 16, 3, 3}, Conv2dOptions().padding(2), false},
      {"winograd uneven padding", {1, 16, 3, 9}, {20, 16, 3, 3}, uneven_padding, true},
      {"3x3 pad 3 falls back to im2col", {1, 16, 3, 3}, {16, 16, 3, 3}, Conv2dOptions().padding(3), true},
  };
  uint64_t seed = 100;
  for (const auto& c : cases) {
    Tensor x = randn64(c.x, seed++, false), w = randn64(c.w, seed++, false);
    Tensor b = c.bias ? randn64({c.w[0]}, seed++, false) : Tensor();
    Tensor expected = reference_conv2d(x, w, b, c.options);
    EXPECT_TRUE(tensors_near(conv2d(x, w, b, c.options), expected, 1e-12)) << c.name;
    Tensor out32 = conv2d(x.to(DType::Float32), w.to(DType::Float32), c.bias ? b.to(DType::Float32) : Tensor(),
                          c.options);
    EXPECT_EQ(out32.dtype(), DType::Float32);
    EXPECT_TRUE(tensors_near(out32, expected, 1e-4, 1e-4)) << c.name << " (float32)";
  }
}

// Runs conv2d forward and backward in float64 and float32 and compares the three gradients.
void expect_float32_gradients_match(const Shape& x_shape, const Shape& w_shape, const Conv2dOptions& o,
                                    uint64_t seed) {
  Tensor x = randn64(x_shape, seed), w = randn64(w_shape, seed + 1), b = randn64({w_shape[0]}, seed + 2);
  Tensor out = conv2d(x, w, b, o);
  Tensor g = randn64(out.shape(), seed + 3, false);
  (out * g).sum().backward();
  Tensor x32 = x.detach().to(DType::Float32).set_requires_grad(true);
  Tensor w32 = w.detach().to(DType::Float32).set_requires_grad(true);
  Tensor b32 = b.detach().to(DType::Float32).set_requires_grad(true);
  (conv2d(x32, w32, b32, o) * g.to(DType::Float32)).sum().backward();
  EXPECT_TRUE(tensors_near(x32.grad(), x.grad(), 1e-4, 1e-4));
  EXPECT_TRUE(tensors_near(w32.grad(), w.grad(), 1e-3, 1e-4));
  EXPECT_TRUE(tensors_near(b32.grad(), b.grad(), 1e-4, 1e-4));
}

TEST(Conv2d, Float32GradientsMatchFloat64) {
  expect_float32_gradients_match({2, 6, 11, 10}, {8, 6, 3, 3}, Conv2dOptions().padding(1).stride(2), 7);
  expect_float32_gradients_match({2, 16, 9, 10}, {24, 16, 3, 3}, Conv2dOptions().padding(1), 11);  // Winograd
}

TEST(Conv2d, WinogradChunksGiveTheSameResult) {
  // A chunk budget of 5 tile rows of 3 tiles: chunks straddle the images (4 tile rows each).
  const int64_t n = 3, c = 16, o = 17, h = 7, w = 5, rows_per_chunk = 5, tile_cols = 3;
  const int64_t chunk_bytes = 16 * (c + o) * int64_t(sizeof(double)) * rows_per_chunk * tile_cols;
  const Conv2dOptions options = Conv2dOptions().padding(1);
  Tensor x = randn64({n, c, h, w}, 13, false), weight = randn64({o, c, 3, 3}, 14, false);
  Tensor bias = randn64({o}, 15, false), grad_out = randn64({n, o, h, w}, 16, false);
  Conv2dParams params;
  params.pad_h = params.pad_w = 1;
  const cpu::ConvGeometry g{n, c, h, w, o, 3, 3, h, w, params};
  ASSERT_TRUE(cpu::winograd_applies(g));

  Tensor out = empty({n, o, h, w}, f64), grad_x = empty({n, c, h, w}, f64), grad_w = empty({o, c, 3, 3}, f64);
  cpu::winograd_forward(x.data_ptr<double>(), weight.data_ptr<double>(), bias.data_ptr<double>(),
                        out.data_ptr<double>(), g, chunk_bytes);
  cpu::winograd_backward_data(grad_out.data_ptr<double>(), weight.data_ptr<double>(), grad_x.data_ptr<double>(), g,
                              chunk_bytes);
  cpu::winograd_backward_filter(grad_out.data_ptr<double>(), x.data_ptr<double>(), grad_w.data_ptr<double>(), g,
                                chunk_bytes);

  EXPECT_TRUE(tensors_near(out, reference_conv2d(x, weight, bias, options), 1e-12));
  Tensor xg = x.clone().set_requires_grad(true), wg = weight.clone().set_requires_grad(true);
  conv2d(xg, wg, bias, options).backward(grad_out);  // one chunk
  EXPECT_TRUE(tensors_near(grad_x, xg.grad(), 1e-12));
  EXPECT_TRUE(tensors_near(grad_w, wg.grad(), 1e-11));
}

TEST(Conv2d, EmptyBatch) {
  Tensor x = zeros({0, 3, 5, 5}, {DType::Float64, Device::cpu(), true});
  Tensor w = randn64({4, 3, 3, 3}, 11), b = randn64({4}, 12);
  Tensor out = conv2d(x, w, b);
  EXPECT_EQ(out.shape(), (Shape{0, 4, 3, 3}));
  out.sum().backward();
  EXPECT_EQ(x.grad().shape(), (Shape{0, 3, 5, 5}));
  EXPECT_EQ(w.grad().to_vector<double>(), std::vector<double>(w.numel(), 0.0));
  EXPECT_EQ(b.grad().to_vector<double>(), std::vector<double>(4, 0.0));
}

TEST(Conv2d, ErrorsNameShapesAndOptions) {
  expect_error_mentions([] { conv2d(zeros({3, 5, 5}), zeros({4, 3, 3, 3})); }, {"4-D", "(3, 5, 5)"});
  expect_error_mentions(
      [] { conv2d(zeros({1, 3, 5, 5}), zeros({4, 1, 3, 3}), Tensor(), Conv2dOptions().group_count(2)); },
      {"divisible by groups", "(1, 3, 5, 5)", "groups 2"});
  expect_error_mentions([] { conv2d(zeros({1, 3, 5, 5}), zeros({4, 2, 3, 3})); },
                        {"weight", "(4, 2, 3, 3)", "(1, 3, 5, 5)"});
  expect_error_mentions([] { conv2d(zeros({1, 3, 2, 2}), zeros({4, 3, 3, 3}), Tensor(), Conv2dOptions().dilation(2)); },
                        {"empty", "(1, 3, 2, 2)", "dilation (2, 2)"});
  expect_error_mentions([] { conv2d(zeros({1, 3, 5, 5}), zeros({4, 3, 3, 3}), zeros({3})); }, {"bias", "(3,)"});
  expect_error_mentions([] { conv2d(zeros({1, 3, 5, 5}), zeros({4, 3, 3, 3}), Tensor(), Conv2dOptions().stride(0)); },
                        {"stride (0, 0)"});
}

}  // namespace
}  // namespace maskdet
