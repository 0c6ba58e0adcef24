// Dropout: in training about p of the elements are zeroed and the rest scaled by 1 / (1 - p);
// in eval mode it is the identity.
#include "layers/dropout.h"
#include "test_util.h"

namespace maskdet::nn {
namespace {

TEST(Dropout, TrainingZeroesAboutPAndKeepsTheExpectation) {
  auto dropout = std::make_shared<Dropout>(0.25);
  const Tensor x = ones({200, 100});
  const Tensor y = dropout->forward(x);
  const double zero_fraction = eq(y, zeros_like(y)).to(DType::Float64).mean().item();
  EXPECT_NEAR(zero_fraction, 0.25, 0.02);
  EXPECT_NEAR(y.mean().item(), 1.0, 0.03);
  EXPECT_NEAR(max(y).item(), 1.0 / 0.75, 1e-6);
  dropout->eval();
  EXPECT_TRUE(test::tensors_near(dropout->forward(x), x, 0.0));
  EXPECT_THROW(Dropout(1.0), Error);
}

}  // namespace
}  // namespace maskdet::nn
