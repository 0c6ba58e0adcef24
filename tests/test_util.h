// Helpers shared by the test suites.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "tensor/creation.h"

namespace maskdet::test {

// A committed reference fixture, `relative` to the source tree (e.g.
// "tests/parity/data/retinanet_r18.safetensors"); where MASKDET_FIXTURE_DIR is set, the file of
// that name in it instead: scripts/check_fixtures.sh remakes the fixtures there and runs the
// tests against them.
inline std::string fixture_file(const std::string& relative) {
  const char* dir = std::getenv("MASKDET_FIXTURE_DIR");
  if (dir == nullptr || *dir == '\0') return std::string(MASKDET_SOURCE_DIR) + "/" + relative;
  return std::string(dir) + "/" + relative.substr(relative.find_last_of('/') + 1);
}

// Float64 N(0, 1) values from a private seed; requires_grad on by default (for gradcheck).
inline Tensor randn64(const Shape& shape, uint64_t seed, bool requires_grad = true) {
  Generator g(seed);
  Tensor t = randn(shape, {DType::Float64}, &g);
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

// Float64 uniform values in [lo, hi) from a private seed.
inline Tensor rand64(const Shape& shape, uint64_t seed, double lo, double hi, bool requires_grad = true) {
  Generator g(seed);
  Tensor t = rand(shape, {DType::Float64}, &g, lo, hi);
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

// Gradcheck that prints the worst element when it fails.
#define EXPECT_GRADCHECK(fn, inputs, ...)                                                              \
  do {                                                                                                 \
    auto maskdet_gc = ::maskdet::autograd::gradcheck(fn, inputs __VA_OPT__(, ) __VA_ARGS__);          \
    EXPECT_TRUE(maskdet_gc.ok) << "gradcheck failed, worst element: " << maskdet_gc.worst;            \
    EXPECT_GT(maskdet_gc.elements_checked, 0);                                                         \
  } while (0)

// Every element within atol + rtol * |expected|; reports the worst one.
inline ::testing::AssertionResult tensors_near(const Tensor& actual, const Tensor& expected, double atol,
                                               double rtol = 0) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << shape_str(actual.shape()) << " vs "
                                         << shape_str(expected.shape());
  const auto a = actual.to_vector<double>();
  const auto e = expected.to_vector<double>();
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double excess = std::abs(a[i] - e[i]) - (atol + rtol * std::abs(e[i]));
    if (excess > worst || std::isnan(a[i]) != std::isnan(e[i])) {
      worst = std::isnan(excess) ? INFINITY : excess;
      worst_i = i;
    }
  }
  if (worst > 0)
    return ::testing::AssertionFailure() << "worst element (flat " << worst_i << "): actual " << a[worst_i]
                                         << ", expected " << e[worst_i] << " (atol " << atol << ", rtol " << rtol
                                         << ")";
  return ::testing::AssertionSuccess();
}

// The message of the maskdet::Error fn() throws ("" when it throws none).
template <class Fn>
std::string error_message(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Expects fn() to throw a maskdet::Error whose message contains `needle`.
template <class Fn>
void expect_error_containing(Fn&& fn, const std::string& needle) {
  const std::string message = error_message(fn);
  if (message.empty()) ADD_FAILURE() << "no error thrown, expected one mentioning '" << needle << "'";
  else EXPECT_NE(message.find(needle), std::string::npos) << message;
}

#define EXPECT_ERROR_CONTAINS(statement, needle)                                                   \
  ::maskdet::test::expect_error_containing([&] { statement; }, needle)

}  // namespace maskdet::test
