// Forward values (and one conv2d backward) against PyTorch 1.13: inputs and outputs come from
// tests/torch_fixtures/data/forward.safetensors, written by tools/make_torch_fixtures.py.
// Each case's options below mirror that script; keep the two in step.
#include <map>

#include "tensor/safetensors.h"
#include "test_util.h"

namespace maskdet {
namespace {
using test::tensors_near;

// float32 against float32: a few ulps of accumulated rounding on values of order 1-10.
constexpr double kAtol = 1e-5, kRtol = 1e-4;

const std::map<std::string, Tensor>& fixtures() {
  static const std::map<std::string, Tensor> loaded =
      load_safetensors(test::fixture_file("tests/torch_fixtures/data/forward.safetensors"));
  return loaded;
}

// A fixture tensor; a fresh copy so no test can disturb another through in-place updates.
Tensor fx(const std::string& name) {
  const auto it = fixtures().find(name);
  MASKDET_CHECK(it != fixtures().end(), "fixture '", name, "' is missing; rerun tools/make_torch_fixtures.py");
  return it->second.clone();
}

#define EXPECT_MATCHES_TORCH(actual, key) \
  EXPECT_TRUE(tensors_near((actual), fx(key), kAtol, kRtol)) << "case " << (key)

Tensor conv_case(const std::string& name, const Conv2dOptions& options, bool has_bias) {
  return conv2d(fx(name + ".x"), fx(name + ".weight"), has_bias ? fx(name + ".bias") : Tensor(), options);
}

TEST(TorchForward, FileLoadsWithMetadata) {
  const auto c = load_safetensors_with_metadata(test::fixture_file("tests/torch_fixtures/data/forward.safetensors"));
  EXPECT_EQ(c.metadata.at("generator"), "tools/make_torch_fixtures.py");
  EXPECT_EQ(c.tensors.at("gather.index").dtype(), DType::Int64);
  EXPECT_EQ(c.tensors.at("conv_plain.x").dtype(), DType::Float32);
}

TEST(TorchForward, Conv2dPlain) { EXPECT_MATCHES_TORCH(conv_case("conv_plain", {}, false), "conv_plain.out"); }

TEST(TorchForward, Conv2dStride2Pad1Bias) {
  EXPECT_MATCHES_TORCH(conv_case("conv_stride2_pad1", Conv2dOptions().stride(2).padding(1), true),
                       "conv_stride2_pad1.out");
}

TEST(TorchForward, Conv2dDilation2) {
  EXPECT_MATCHES_TORCH(conv_case("conv_dilation2", Conv2dOptions().dilation(2).padding(2), true),
                       "conv_dilation2.out");
}

TEST(TorchForward, Conv2dGroups2) {
  EXPECT_MATCHES_TORCH(conv_case("conv_groups2", Conv2dOptions().group_count(2).padding(1), true),
                       "conv_groups2.out");
}

TEST(TorchForward, Conv2dBackward) {
  Tensor x = fx("conv_stride2_pad1.x").set_requires_grad(true);
  Tensor w = fx("conv_stride2_pad1.weight").set_requires_grad(true);
  Tensor b = fx("conv_stride2_pad1.bias").set_requires_grad(true);
  conv2d(x, w, b, Conv2dOptions().stride(2).padding(1)).backward(fx("conv_stride2_pad1.grad_out"));
  EXPECT_MATCHES_TORCH(x.grad(), "conv_stride2_pad1.grad_x");
  EXPECT_MATCHES_TORCH(w.grad(), "conv_stride2_pad1.grad_weight");
  EXPECT_MATCHES_TORCH(b.grad(), "conv_stride2_pad1.grad_bias");
}

TEST(TorchForward, BatchNormTraining) {
  Tensor running_mean = fx("bn_train.running_mean"), running_var = fx("bn_train.running_var");
  const Tensor out = batch_norm(fx("bn_train.x"), fx("bn_train.weight"), fx("bn_train.bias"), running_mean,
                                running_var, /*training=*/true, 0.1, 1e-5);
  EXPECT_MATCHES_TORCH(out, "bn_train.out");
  EXPECT_MATCHES_TORCH(running_mean, "bn_train.running_mean_after");
  EXPECT_MATCHES_TORCH(running_var, "bn_train.running_var_after");
}

TEST(TorchForward, BatchNormEval) {
  const Tensor out = batch_norm(fx("bn_eval.x"), fx("bn_eval.weight"), fx("bn_eval.bias"), fx("bn_eval.running_mean"),
                                fx("bn_eval.running_var"), /*training=*/false, 0.1, 1e-5);
  EXPECT_MATCHES_TORCH(out, "bn_eval.out");
}

TEST(TorchForward, MaxPool2dK3S2P1) {
  Pool2dOptions o;
  o.kernel_h = o.kernel_w = 3;
  o.stride_h = o.stride_w = 2;
  o.pad_h = o.pad_w = 1;
  EXPECT_MATCHES_TORCH(max_pool2d(fx("maxpool_k3s2p1.x"), o), "maxpool_k3s2p1.out");
}

TEST(TorchForward, MaxPool2dCeilMode) {
  Pool2dOptions o;
  o.kernel_h = o.kernel_w = 3;
  o.stride_h = o.stride_w = 2;
  o.ceil_mode = true;
  EXPECT_MATCHES_TORCH(max_pool2d(fx("maxpool_ceil.x"), o), "maxpool_ceil.out");
}

TEST(TorchForward, UpsampleNearest) {
  EXPECT_MATCHES_TORCH(upsample_nearest2d(fx("upsample.x"), 2.0), "upsample.out_x2");
  EXPECT_MATCHES_TORCH(upsample_nearest2d(fx("upsample.x"), 7, 9), "upsample.out_7x9");
}

TEST(TorchForward, SigmoidFocalLoss) {
  EXPECT_MATCHES_TORCH(sigmoid_focal_loss(fx("focal.logits"), fx("focal.targets"), {0.25, 2.0}, Tensor(),
                                          Reduction::None),
                       "focal.out");
}

TEST(TorchForward, BceWithLogits) {
  EXPECT_MATCHES_TORCH(
      binary_cross_entropy_with_logits(fx("bce.logits"), fx("bce.targets"), fx("bce.weight"), Reduction::None),
      "bce.out");
  EXPECT_MATCHES_TORCH(
      binary_cross_entropy_with_logits(fx("bce.logits"), fx("bce.targets"), fx("bce.weight"), Reduction::Mean),
      "bce.out_mean");
}

TEST(TorchForward, SmoothL1AndL1) {
  EXPECT_MATCHES_TORCH(smooth_l1_loss(fx("regression.pred"), fx("regression.target"), 1.0 / 9.0, Reduction::None),
                       "regression.smooth_l1");
  EXPECT_MATCHES_TORCH(l1_loss(fx("regression.pred"), fx("regression.target"), Reduction::None), "regression.l1");
}

TEST(TorchForward, Matmul) {
  EXPECT_MATCHES_TORCH(matmul(fx("matmul.a"), fx("matmul.b")), "matmul.out");
  EXPECT_MATCHES_TORCH(matmul(fx("bmm.a"), fx("bmm.b")), "bmm.out");
  EXPECT_MATCHES_TORCH(matmul(fx("bmm_shared.a"), fx("bmm_shared.b")), "bmm_shared.out");
}

TEST(TorchForward, Unary) {
  const Tensor x = fx("unary.x");
  EXPECT_MATCHES_TORCH(sigmoid(x), "unary.sigmoid");
  EXPECT_MATCHES_TORCH(exp(x), "unary.exp");
  EXPECT_MATCHES_TORCH(log(abs(x) + 0.1), "unary.log");
}

TEST(TorchForward, CatGatherIndexSelect) {
  EXPECT_MATCHES_TORCH(cat({fx("cat.a"), fx("cat.b")}, 1), "cat.out");
  EXPECT_MATCHES_TORCH(gather(fx("gather.x"), 1, fx("gather.index")), "gather.out");
  EXPECT_MATCHES_TORCH(index_select(fx("index_select.x"), 0, fx("index_select.index")), "index_select.out");
}

}  // namespace
}  // namespace maskdet
