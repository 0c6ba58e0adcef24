// cat, stack, index_select, gather and max over a dim: forward values, gradient routing,
// edge cases (empty pieces, repeated indices, ties, 0-d) and the error messages.
#include <limits>

#include "op_test_helpers.h"

namespace maskdet {
namespace {
using test::expect_error_containing;
using test::f64;
using test::int64s;

// ---- cat and stack ----

TEST(Cat, JoinsAlongTheChosenDim) {
  Tensor a = f64({1, 2, 3, 4}, {2, 2}), b = f64({5, 6}, {1, 2}), c = f64({7, 8}, {2, 1});
  EXPECT_EQ(cat({a, b}, 0).to_vector<double>(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  Tensor joined = cat({a, c}, -1);
  EXPECT_EQ(joined.shape(), (Shape{2, 3}));
  EXPECT_EQ(joined.to_vector<double>(), (std::vector<double>{1, 2, 7, 3, 4, 8}));
}

TEST(Cat, EmptyPiecesAndNonContiguousInputs) {
  Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor none = zeros({0, 3}, {DType::Float64});
  EXPECT_EQ(cat({none, a, none}, 0).shape(), (Shape{2, 3}));
  Tensor t = a.transpose(0, 1);  // (3, 2), strided
  EXPECT_EQ(cat({t, t}, 1).to_vector<double>(), (std::vector<double>{1, 4, 1, 4, 2, 5, 2, 5, 3, 6, 3, 6}));
  Tensor labels = cat({int64s({1, 2}, {2}), int64s({3}, {1})}, 0);
  EXPECT_EQ(labels.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3}));
}

TEST(Cat, GradientIsSlicedBackOnlyToInputsThatNeedIt) {
  Tensor a = f64({1, 2}, {1, 2}).set_requires_grad(true), b = f64({3, 4, 5, 6}, {2, 2});
  Tensor w = f64({1, 2, 3, 4, 5, 6}, {3, 2});
  (cat({a, b}, 0) * w).sum().backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{1, 2}));
  EXPECT_FALSE(b.grad().defined());
}

TEST(Cat, ErrorsNameTheOffendingTensor) {
  Tensor a = zeros({2, 3}), b = zeros({2, 4});
  expect_error_containing([&] { cat({a, a, b}, 0); }, "tensor 2 (2, 4) does not match tensor 0 (2, 3) in dim 1");
  expect_error_containing([&] { cat({a, zeros({2, 3}, {DType::Float64})}, 0); }, "tensor 1 (2, 3) is float64");
  expect_error_containing([&] { cat({a, zeros({2, 3, 1})}, 0); }, "tensor 1 (2, 3, 1) has 3 dims");
  expect_error_containing([&] { cat({}, 0); }, "at least one tensor");
  expect_error_containing([&] { cat({a, Tensor()}, 0); }, "tensor 1 is undefined");
  expect_error_containing([&] { cat({a, a}, 2); }, "dim 2 out of range");
  expect_error_containing([&] { cat({zeros({}), zeros({})}, 0); }, "zero-dimensional");
}

TEST(Stack, AddsANewDim) {
  Tensor a = f64({1, 2, 3}, {3}), b = f64({4, 5, 6}, {3});
  Tensor rows = stack({a, b}, 0), cols = stack({a, b}, -1);
  EXPECT_EQ(rows.shape(), (Shape{2, 3}));
  EXPECT_EQ(rows.to_vector<double>(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(cols.shape(), (Shape{3, 2}));
  EXPECT_EQ(cols.to_vector<double>(), (std::vector<double>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(stack({scalar_tensor(1.0), scalar_tensor(2.0)}, 0).shape(), (Shape{2}));
  expect_error_containing([&] { stack({a, zeros({4}, {DType::Float64})}, 0); }, "tensor 1 (4,) does not match");
}

// ---- index_select ----

TEST(IndexSelect, PicksSlicesAndRepeats) {
  Tensor x = f64({0, 1, 2, 10, 11, 12}, {2, 3});
  EXPECT_EQ(index_select(x, 1, int64s({2, 0, 2}, {3})).to_vector<double>(),
            (std::vector<double>{2, 0, 2, 12, 10, 12}));
  EXPECT_EQ(index_select(x, 0, int64s({1}, {1})).to_vector<double>(), (std::vector<double>{10, 11, 12}));
  EXPECT_EQ(index_select(x, 0, int64s({}, {0})).shape(), (Shape{0, 3}));
  // Integer data (e.g. labels) and a strided index.
  Tensor labels = int64s({7, 8, 9}, {3});
  Tensor index = int64s({2, -1, 0, -1}, {2, 2}).select(1, 0);
  EXPECT_EQ(index_select(labels, 0, index).to_vector<int64_t>(), (std::vector<int64_t>{9, 7}));
}

TEST(IndexSelect, RepeatedIndicesAccumulateGradient) {
  Tensor x = f64({1, 2, 3}, {3}).set_requires_grad(true);
  (index_select(x, 0, int64s({2, 2, 0, 2}, {4})) * f64({1, 10, 100, 1000}, {4})).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{100, 0, 1011}));
}

TEST(IndexSelect, OutOfRangeIndexIsNamedWithItsPosition) {
  Tensor x = zeros({4, 5});
  expect_error_containing([&] { index_select(x, 1, int64s({0, 4, 5, 7}, {4})); },
                          "index 5 at position (2,) is out of range for dim 1 of size 5");
  expect_error_containing([&] { index_select(x, 0, int64s({-1}, {1})); }, "index -1 at position (0,)");
  expect_error_containing([&] { index_select(x, 0, from_vector<double>({0}, {1})); }, "1-D int64");
}

TEST(IndexSelect, LargeBackwardMatchesASerialReference) {
  // Big enough to be split over threads, with every row picked many times.
  const int64_t outer = 3, rows = 50, inner = 200, picks = 1000;
  Generator gen(7);
  Tensor index = (rand({picks}, {DType::Float64}, &gen) * static_cast<double>(rows)).to(DType::Int64);
  Tensor x = zeros({outer, rows, inner}, {DType::Float64}).set_requires_grad(true);
  Tensor weights = test::randn64({outer, picks, inner}, 8, false);
  (index_select(x, 1, index) * weights).sum().backward();
  const auto idx = index.to_vector<int64_t>();
  const auto w = weights.to_vector<double>();
  std::vector<double> expected(outer * rows * inner, 0.0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < picks; ++k)
      for (int64_t i = 0; i < inner; ++i) expected[(o * rows + idx[k]) * inner + i] += w[(o * picks + k) * inner + i];
  EXPECT_TRUE(test::tensors_near(x.grad(), f64(expected, {outer, rows, inner}), 1e-9));
}

// ---- gather ----

TEST(Gather, PicksOneElementPerIndex) {
  Tensor x = f64({0, 1, 2, 10, 11, 12}, {2, 3});
  EXPECT_EQ(gather(x, 1, int64s({2, 2, 0, 1}, {2, 2})).to_vector<double>(), (std::vector<double>{2, 2, 10, 11}));
  EXPECT_EQ(gather(x, 0, int64s({1, 0, 1}, {1, 3})).to_vector<double>(), (std::vector<double>{10, 1, 12}));
  Tensor xt = x.transpose(0, 1);  // (3, 2), strided
  EXPECT_EQ(gather(xt, 0, int64s({2, 0}, {1, 2})).to_vector<double>(), (std::vector<double>{2, 10}));
}

TEST(Gather, BackwardScatterAdds) {
  Tensor x = f64({0, 1, 2, 10, 11, 12}, {2, 3}).set_requires_grad(true);
  (gather(x, 1, int64s({2, 2, 0, 1}, {2, 2})) * f64({1, 2, 3, 4}, {2, 2})).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 3, 3, 4, 0}));
}

TEST(Gather, LargeBackwardMatchesASerialReference) {
  // Enough rows to be split over threads; 8 indices into 5 columns per row always collide.
  const int64_t rows = 40000, cols = 5, picks = 8;
  Generator gen(9);
  Tensor index = (rand({rows, picks}, {DType::Float64}, &gen) * static_cast<double>(cols)).to(DType::Int64);
  Tensor x = zeros({rows, cols}, {DType::Float64}).set_requires_grad(true);
  Tensor weights = test::randn64({rows, picks}, 10, false);
  (gather(x, 1, index) * weights).sum().backward();
  const auto idx = index.to_vector<int64_t>();
  const auto w = weights.to_vector<double>();
  std::vector<double> expected(rows * cols, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < picks; ++k) expected[r * cols + idx[r * picks + k]] += w[r * picks + k];
  EXPECT_TRUE(test::tensors_near(x.grad(), f64(expected, {rows, cols}), 1e-9));
}

TEST(Gather, ErrorsNameTheBadIndex) {
  Tensor x = zeros({2, 3});
  expect_error_containing([&] { gather(x, 1, int64s({0, 1, 3, 0}, {2, 2})); },
                          "index 3 at position (1, 0) is out of range for dim 1 of size 3");
  expect_error_containing([&] { gather(x, 1, int64s({0, 1}, {2})); }, "must have the rank");
  expect_error_containing([&] { gather(x, 1, int64s({0, 0, 0, 0, 0, 0}, {3, 2})); }, "exceeds (2, 3) in dim 0");
}

// ---- max ----

TEST(Max, ValuesAndFirstIndexOnTies) {
  Tensor x = f64({3, 7, 7, -1, 5, 2}, {2, 3});
  MaxResult r = max(x, 1);
  EXPECT_EQ(r.values.shape(), (Shape{2}));
  EXPECT_EQ(r.values.to_vector<double>(), (std::vector<double>{7, 5}));
  EXPECT_EQ(r.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 1}));
  MaxResult k = max(x, 0, true);
  EXPECT_EQ(k.values.shape(), (Shape{1, 3}));
  EXPECT_EQ(k.indices.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(max(x).item(), 7);
  EXPECT_EQ(max(x).dim(), 0);
  MaxResult scalar = max(scalar_tensor(4.0, {DType::Float64}), 0);
  EXPECT_EQ(scalar.values.item(), 4);
  EXPECT_EQ(scalar.indices.item(), 0);
}

TEST(Max, GradientGoesToTheArgmaxOnly) {
  Tensor x = f64({3, 7, 7, -1, 5, 2}, {2, 3}).set_requires_grad(true);
  (max(x, 1).values * f64({2, 3}, {2})).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 2, 0, 0, 3, 0}));
  x.zero_grad();
  max(x).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 0, 0, 0, 0}));
  EXPECT_FALSE(max(x, 0).indices.requires_grad());
}

TEST(Max, Errors) {
  expect_error_containing([&] { max(zeros({2, 0}), 1); }, "dim 1 of size 0");
  expect_error_containing([&] { max(zeros({0})); }, "has no elements");
  expect_error_containing([&] { max(zeros({2}), 1); }, "out of range");
}

}  // namespace
}  // namespace maskdet
