// Gradient checks of silu (autograd/ops/silu.cpp) and the nn::SiLU layer: float64 central
// differences (autograd/gradcheck.h) against the fused backward kernel, including inputs where
// sigmoid saturates and the naive 1 / (1 + e^-x) would overflow.
#include "layers/silu.h"
#include "test_util.h"

namespace maskdet {
namespace {
using test::randn64;
using Inputs = std::vector<Tensor>;

TEST(Gradcheck, SiLU) {
  EXPECT_GRADCHECK([](const Inputs& v) { return silu(v[0]); }, {randn64({3, 5}, 301) * 3.0});
}

TEST(Gradcheck, SiLULargeMagnitudes) {
  // +-30 and +-50: sigmoid is 1 or ~1e-22 there; +-800 overflows e^800 in float64 unless the
  // kernel splits by sign. The derivative tends to 1 on the right and to 0 on the left.
  Tensor x = from_vector<double>({-800.0, -50.0, -30.0, -8.0, -1.278, 0.0, 1e-3, 2.5, 30.0, 50.0, 800.0}, {11},
                                 {DType::Float64, Device::cpu(), true});
  EXPECT_GRADCHECK([](const Inputs& v) { return silu(v[0]); }, {x});
}

TEST(Gradcheck, SiLUStridedInputAndReuse) {
  // A transposed view takes the kernels' strided path; using x twice makes the engine add the
  // gradient of both paths, which the backward must not do itself (it overwrites grad_x).
  EXPECT_GRADCHECK([](const Inputs& v) { return silu(v[0].transpose(0, 1)) * v[0].transpose(0, 1); },
                   {randn64({4, 3}, 302)});
}

TEST(Gradcheck, SiLULayer) {
  auto layer = std::make_shared<nn::SiLU>();
  EXPECT_GRADCHECK([layer](const Inputs& v) { return (*layer)(v[0]); }, {randn64({2, 3, 4}, 303)});
}

}  // namespace
}  // namespace maskdet
