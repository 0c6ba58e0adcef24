// Gradient-norm clipping against torch.nn.utils.clip_grad_norm_ (2-norm, inf-norm, 3-norm), and
// its edge cases: nothing to clip, parameters without gradients, strided gradients, float32.
#include "layers/optim/clip_grad.h"

#include <cmath>

#include "optim_fixture.h"

namespace maskdet {
namespace {
using namespace test;

struct ClipCase {
  std::string name;
  double max_norm;
  double norm_type;
};

class ClipMatchesTorch : public ::testing::TestWithParam<ClipCase> {};

TEST_P(ClipMatchesTorch, TotalAndClippedGradients) {
  const ClipCase c = GetParam();
  for (const DType dtype : {DType::Float64, DType::Float32}) {
    const double tolerance = dtype == DType::Float64 ? 1e-12 : 1e-6;
    const std::vector<Tensor> params = fixture_params(dtype);
    set_fixture_grads(params, 0);
    const double total = optim::clip_grad_norm(params, c.max_norm, c.norm_type);
    const double torch_total = reference("clip." + c.name + ".total").item();
    EXPECT_NEAR(total, torch_total, tolerance * torch_total) << dtype_name(dtype);
    ASSERT_GT(total, c.max_norm) << "the fixture should exercise clipping";
    for (int i = 0; i < kFixtureParams; ++i)
      EXPECT_TRUE(tensors_near(params[i].grad(), reference("clip." + c.name + ".grad." + std::to_string(i)),
                               tolerance, tolerance))
          << dtype_name(dtype) << " grad " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Norms, ClipMatchesTorch,
                         ::testing::Values(ClipCase{"l2", 1.0, 2.0}, ClipCase{"inf", 0.5, INFINITY},
                                           ClipCase{"l3", 1.0, 3.0}),
                         [](const auto& info) { return info.param.name; });

TEST(ClipGradNorm, LeavesSmallGradientsUntouched) {
  const std::vector<Tensor> params = fixture_params();
  set_fixture_grads(params, 0);
  const Tensor before = params[0].grad().clone();
  const double total = optim::clip_grad_norm(params, 100.0);
  EXPECT_NEAR(total, reference("clip.l2.total").item(), 1e-12);
  EXPECT_TRUE(bit_identical(params[0].grad(), before));
}

TEST(ClipGradNorm, SkipsParametersWithoutGradient) {
  std::vector<Tensor> params = fixture_params();
  set_fixture_grads(params, 0);
  params.push_back(zeros({7}, {DType::Float64, Device::cpu(), true}));  // never reached by backward
  const double total = optim::clip_grad_norm(params, 1.0);
  EXPECT_NEAR(total, reference("clip.l2.total").item(), 1e-12);
  EXPECT_FALSE(params[2].grad().defined());
  EXPECT_EQ(optim::clip_grad_norm({params[2]}, 1.0), 0.0);
}

TEST(ClipGradNorm, ScalesStridedGradientsInPlace) {
  Tensor p = zeros({2, 3}, {DType::Float64, Device::cpu(), true});
  const Tensor storage = from_vector<double>({3, 0, 0, 0, 4, 0}, {3, 2}, {DType::Float64});
  p.set_grad(storage.transpose(0, 1));  // (2, 3) view with strides (1, 2): [[3, 0, 4], [0, 0, 0]]
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm({p}, 1.0), 5.0);
  const double scale = 1.0 / (5.0 + 1e-6);
  EXPECT_TRUE(tensors_near(storage, from_vector<double>({3 * scale, 0, 0, 0, 4 * scale, 0}, {3, 2}, {DType::Float64}),
                           1e-15));
}

TEST(ClipGradNorm, NonFiniteNormSpreadsAsInPytorch) {
  Tensor p = zeros({2}, {DType::Float64, Device::cpu(), true});
  p.set_grad(from_vector<double>({NAN, 1.0}, {2}, {DType::Float64}));
  EXPECT_TRUE(std::isnan(optim::clip_grad_norm({p}, 1.0)));
  EXPECT_TRUE(std::isnan(p.grad().to_vector<double>()[1]));
  p.set_grad(from_vector<double>({NAN, 1.0}, {2}, {DType::Float64}));
  EXPECT_TRUE(std::isnan(optim::clip_grad_norm({p}, 1.0, INFINITY)));
}

TEST(ClipGradNorm, RejectsBadArguments) {
  const std::vector<Tensor> params = fixture_params();
  EXPECT_ERROR_CONTAINS(optim::clip_grad_norm(params, -1.0), "max_norm must be >= 0, got -1");
  EXPECT_ERROR_CONTAINS(optim::clip_grad_norm(params, 1.0, 0.0), "norm_type must be > 0 (or infinity), got 0");
}

}  // namespace
}  // namespace maskdet
