// RetinaNet's building blocks: ResNet stages and C3-C5 shapes, torchvision's parameter names
// and counts, FPN level sizes (odd inputs included), head output layout and initialisation.
#include <cmath>

#include "autograd/grad_mode.h"
#include "layers/init.h"
#include "retinanet/fpn.h"
#include "retinanet/head.h"
#include "retinanet/resnet.h"
#include "test_util.h"

namespace maskdet {
namespace {

std::map<std::string, Shape> shapes_of(const nn::NamedTensors& named) {
  std::map<std::string, Shape> out;
  for (const auto& [name, t] : named) out[name] = t.shape();
  return out;
}

Tensor images(int64_t n, int64_t h, int64_t w, uint64_t seed = 1) {
  Generator g(seed);
  return randn({n, 3, h, w}, {}, &g);
}

TEST(ResNet, ResNet18FeatureShapes) {
  auto net = std::make_shared<ResNet>(BackboneConfig{.depth = 18});
  NoGradGuard no_grad;
  const std::vector<Tensor> c = net->forward(images(2, 64, 96));
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].shape(), (Shape{2, 128, 8, 12}));
  EXPECT_EQ(c[1].shape(), (Shape{2, 256, 4, 6}));
  EXPECT_EQ(c[2].shape(), (Shape{2, 512, 2, 3}));
  EXPECT_EQ(net->feature_channels(), (std::vector<int64_t>{128, 256, 512}));
}

TEST(ResNet, ParameterCountsMatchTorchvisionWithoutFc) {
  // torchvision's resnet18 / resnet50 have 11,689,512 / 25,557,032 parameters; the fc layer
  // (512 * 1000 + 1000 / 2048 * 1000 + 1000) is not part of the backbone.
  auto r18 = std::make_shared<ResNet>(BackboneConfig{.depth = 18, .norm = NormLayer::BatchNorm});
  EXPECT_EQ(r18->parameter_count(), 11689512 - 513000);
  auto r50 = std::make_shared<ResNet>(BackboneConfig{.depth = 50, .norm = NormLayer::BatchNorm});
  EXPECT_EQ(r50->parameter_count(), 25557032 - 2049000);
  EXPECT_EQ(r50->feature_channels(), (std::vector<int64_t>{512, 1024, 2048}));
}

TEST(ResNet, TorchvisionNamesAndStrideOnTheBottleneck3x3) {
  auto net = std::make_shared<ResNet>(BackboneConfig{.depth = 50});
  const auto shapes = shapes_of(net->state_dict());
  EXPECT_EQ(shapes.at("conv1.weight"), (Shape{64, 3, 7, 7}));
  EXPECT_EQ(shapes.at("layer1.0.downsample.0.weight"), (Shape{256, 64, 1, 1}));
  EXPECT_EQ(shapes.at("layer1.0.downsample.1.running_var"), (Shape{256}));
  EXPECT_EQ(shapes.at("layer4.2.conv3.weight"), (Shape{2048, 512, 1, 1}));
  EXPECT_EQ(shapes.count("layer1.1.downsample.0.weight"), 0u);
  EXPECT_EQ(shapes.count("fc.weight"), 0u);
  // FrozenBatchNorm: no trainable norm parameters, no num_batches_tracked.
  EXPECT_EQ(shapes.count("bn1.num_batches_tracked"), 0u);
  for (const auto& [name, t] : net->named_parameters()) EXPECT_EQ(t.dim(), 4) << name;
  // The stride sits on conv2 (3x3): a stage's first block halves the size there.
  NoGradGuard no_grad;
  auto stage2 = std::dynamic_pointer_cast<nn::Sequential>(net->named_children()[5].second);
  ASSERT_TRUE(stage2);
  auto block = std::dynamic_pointer_cast<ResidualBlock>((*stage2)[0]);
  ASSERT_TRUE(block);
  for (const auto& [name, child] : block->named_children()) {
    auto conv = std::dynamic_pointer_cast<nn::Conv2d>(child);
    if (conv) {
      EXPECT_EQ(conv->options().stride, name == "conv2" ? 2 : 1) << name;
    }
  }
}

TEST(ResNet, TorchvisionInitialisation) {
  manual_seed(3);
  auto net = std::make_shared<ResNet>(BackboneConfig{.depth = 18, .norm = NormLayer::BatchNorm});
  // kaiming_normal_(fan_out, relu): std = sqrt(2 / (out * k * k)).
  for (const auto& [name, t] : net->named_parameters()) {
    if (name == "layer3.0.conv2.weight") {
      const auto v = t.to_vector<double>();
      double sq = 0;
      for (double x : v) sq += x * x;
      EXPECT_NEAR(std::sqrt(sq / v.size()), std::sqrt(2.0 / (256 * 9)), 0.01 * std::sqrt(2.0 / (256 * 9)));
    }
    if (name == "bn1.weight" || name == "bn1.bias") {
      EXPECT_EQ(t.to_vector<double>(), std::vector<double>(64, name == "bn1.weight" ? 1.0 : 0.0));
    }
  }
  EXPECT_THROW(ResNet(BackboneConfig{.depth = 42}), Error);
}

TEST(Fpn, LevelSizesWithOddInputsAndTorchvisionNames) {
  auto body = std::make_shared<ResNet>(BackboneConfig{.depth = 18});
  auto fpn = std::make_shared<FeaturePyramid>(FpnConfig{.in_channels = body->feature_channels(), .out_channels = 32});
  NoGradGuard no_grad;
  const std::vector<Tensor> p = fpn->forward(body->forward(images(1, 100, 130)));
  const std::vector<Shape> expected{{1, 32, 13, 17}, {1, 32, 7, 9}, {1, 32, 4, 5}, {1, 32, 2, 3}, {1, 32, 1, 2}};
  ASSERT_EQ(p.size(), expected.size());
  for (size_t l = 0; l < p.size(); ++l) EXPECT_EQ(p[l].shape(), expected[l]) << "P" << l + 3;
  const auto shapes = shapes_of(fpn->state_dict());
  EXPECT_EQ(shapes.size(), 16u);
  EXPECT_EQ(shapes.at("inner_blocks.2.0.weight"), (Shape{32, 512, 1, 1}));
  EXPECT_EQ(shapes.at("layer_blocks.0.0.bias"), (Shape{32}));
  EXPECT_EQ(shapes.at("extra_blocks.p6.weight"), (Shape{32, 32, 3, 3}));  // from P5
  EXPECT_EQ(shapes.at("extra_blocks.p7.weight"), (Shape{32, 32, 3, 3}));
  auto from_c5 = std::make_shared<FeaturePyramid>(
      FpnConfig{.in_channels = body->feature_channels(), .out_channels = 32, .p6_source = P6Source::C5});
  EXPECT_EQ(shapes_of(from_c5->state_dict()).at("extra_blocks.p6.weight"), (Shape{32, 512, 3, 3}));
  EXPECT_EQ(from_c5->forward(body->forward(images(1, 64, 64)))[3].shape(), (Shape{1, 32, 1, 1}));
}

TEST(Fpn, TopDownPathReachesTheFinestLevel) {
  // With the laterals of C3 and C4 zeroed, P3 is the upsampled C5 lateral through a 3x3 conv:
  // every 2x2 block of P3 away from the borders sees the same constant input.
  auto fpn = std::make_shared<FeaturePyramid>(FpnConfig{.in_channels = {2, 2, 2}, .out_channels = 4});
  for (const auto& [name, t] : fpn->named_parameters())
    if (name.rfind("inner_blocks.0", 0) == 0 || name.rfind("inner_blocks.1", 0) == 0) nn::init::zeros_(t);
  NoGradGuard no_grad;
  const Tensor c5 = from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2});
  const std::vector<Tensor> p = fpn->forward({zeros({1, 2, 8, 8}), zeros({1, 2, 4, 4}), c5});
  EXPECT_EQ(p[0].shape(), (Shape{1, 4, 8, 8}));
  EXPECT_NE(p[0].at({0, 0, 3, 3}), p[0].at({0, 0, 3, 4}));  // different C5 cells
  EXPECT_EQ(p[0].at({0, 0, 1, 1}), p[0].at({0, 0, 2, 2}));  // same C5 cell, 4 x upsampled
}

TEST(Head, OutputLayoutMatchesAnchorOrder) {
  auto head = std::make_shared<RetinaNetHead>(HeadConfig{.in_channels = 8, .num_anchors = 3, .num_classes = 2});
  NoGradGuard no_grad;
  const HeadOutputs out = head->forward({randn({2, 8, 4, 5}), randn({2, 8, 2, 3})});
  EXPECT_EQ(out.cls_logits.shape(), (Shape{2, (20 + 6) * 3, 2}));
  EXPECT_EQ(out.bbox_regression.shape(), (Shape{2, (20 + 6) * 3, 4}));
  // Row (y * W + x) * A + a, column v is channel a * V + v of the predictor at (y, x).
  Tensor x = randn({1, 8, 4, 5});
  const auto& subnet = head->classification();
  const Tensor raw = subnet->predictor()->forward(subnet->tower()->forward(x));
  const Tensor rows = head->forward({x}).cls_logits;
  const int64_t y = 2, col = 3, a = 1, v = 1;
  EXPECT_FLOAT_EQ(rows.at({0, (y * 5 + col) * 3 + a, v}), raw.at({0, a * 2 + v, y, col}));
}

TEST(Head, TorchvisionNamesAndPriorBias) {
  auto head = std::make_shared<RetinaNetHead>(HeadConfig{.in_channels = 64, .num_anchors = 9, .num_classes = 3});
  const auto shapes = shapes_of(head->state_dict());
  EXPECT_EQ(shapes.size(), 2u * (4 * 2 + 2));
  EXPECT_EQ(shapes.at("classification_head.conv.3.0.weight"), (Shape{64, 64, 3, 3}));
  EXPECT_EQ(shapes.at("classification_head.cls_logits.weight"), (Shape{27, 64, 3, 3}));
  EXPECT_EQ(shapes.at("regression_head.bbox_reg.bias"), (Shape{36}));
  for (const auto& [name, t] : head->named_parameters()) {
    if (t.dim() != 1) continue;
    const double expected = name == "classification_head.cls_logits.bias" ? -std::log(99.0) : 0.0;
    for (double b : t.to_vector<double>()) {
      EXPECT_NEAR(b, expected, 1e-6) << name;
    }
  }
  // Weights N(0, 0.01) at the paper's 256 channels, N(0, 0.02) at 64: the same per-layer gain.
  EXPECT_DOUBLE_EQ(head_init_std(256), 0.01);
  const std::vector<double> w =
      head->state_dict().front().second.to(DType::Float64).reshape({-1}).to_vector<double>();
  double sum_sq = 0;
  for (double v : w) sum_sq += v * v;
  EXPECT_NEAR(std::sqrt(sum_sq / static_cast<double>(w.size())), 0.02, 0.001);
  auto gn = std::make_shared<RetinaNetHead>(
      HeadConfig{.in_channels = 64, .num_anchors = 9, .num_classes = 3, .group_norm = true});
  const auto gn_shapes = shapes_of(gn->state_dict());
  EXPECT_EQ(gn_shapes.at("regression_head.conv.0.1.weight"), (Shape{64}));
  EXPECT_EQ(gn_shapes.count("regression_head.conv.0.0.bias"), 0u);  // the norm would cancel it
  NoGradGuard no_grad;
  EXPECT_EQ(gn->forward({randn({1, 64, 3, 4})}).bbox_regression.shape(), (Shape{1, 3 * 4 * 9, 4}));
}

}  // namespace
}  // namespace maskdet
