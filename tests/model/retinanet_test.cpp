// The assembled RetinaNet: names under backbone.body / backbone.fpn / head, output and anchor
// counts, the loss (no boxes, ignored anchors, per-image averaging, backward), the box-loss
// variants and post-processing invariants.
#include <cmath>

#include "autograd/grad_mode.h"
#include "retinanet/box_loss.h"
#include "retinanet/retinanet.h"
#include "test_util.h"

namespace maskdet {
namespace {

using test::tensors_near;

RetinaNetConfig small_config() {
  RetinaNetConfig config;
  config.backbone.depth = 18;
  config.num_classes = 3;
  config.fpn_channels = 16;
  return config;
}

Tensor images(int64_t n, int64_t h, int64_t w) {
  Generator g(7);
  return randn({n, 3, h, w}, {}, &g);
}

Tensor f64(const std::vector<double>& values, const Shape& shape) {
  return from_vector(values, shape, {DType::Float64});
}

DetectionTarget target(const std::vector<float>& boxes, const std::vector<int64_t>& labels) {
  const int64_t m = static_cast<int64_t>(labels.size());
  return {from_vector(boxes, {m, 4}), from_vector(labels, {m}, {DType::Int64})};
}

TEST(RetinaNet, TorchvisionAnchorSizesAreTruncated) {
  const AnchorConfig c = torchvision_anchor_config();
  EXPECT_EQ(c.sizes[0], (std::vector<double>{32, 40, 50}));
  EXPECT_EQ(c.sizes[2], (std::vector<double>{128, 161, 203}));
  EXPECT_EQ(c.sizes[4], (std::vector<double>{512, 645, 812}));
  EXPECT_EQ(c.anchors_per_cell(0), 9);
}

TEST(RetinaNet, ModuleNamesOutputsAndAnchorCount) {
  manual_seed(11);
  auto model = std::make_shared<RetinaNet>(small_config());
  int64_t body = 0, fpn = 0, head = 0;
  for (const auto& [name, t] : model->state_dict()) {
    body += name.rfind("backbone.body.", 0) == 0;
    fpn += name.rfind("backbone.fpn.", 0) == 0;
    head += name.rfind("head.", 0) == 0;
  }
  EXPECT_EQ(body + fpn + head, static_cast<int64_t>(model->state_dict().size()));
  EXPECT_EQ(fpn, 16);
  EXPECT_EQ(head, 20);
  NoGradGuard no_grad;
  const RetinaNetOutputs out = model->forward(images(2, 96, 128));
  // P3..P7: 12x16, 6x8, 3x4, 2x2, 1x1 cells, 9 anchors each.
  const int64_t anchors = (192 + 48 + 12 + 4 + 1) * 9;
  EXPECT_EQ(out.cls_logits.shape(), (Shape{2, anchors, 3}));
  EXPECT_EQ(out.bbox_regression.shape(), (Shape{2, anchors, 4}));
  EXPECT_EQ(out.anchors.shape(), (Shape{anchors, 4}));
  EXPECT_EQ(out.anchors_per_level, (std::vector<int64_t>{192 * 9, 48 * 9, 12 * 9, 4 * 9, 9}));
  EXPECT_EQ(out.features.size(), 5u);
  // The prior: every score starts near 0.01, below the 0.05 threshold.
  EXPECT_TRUE(model->postprocess(out)[0].scores.numel() == 0);
}

TEST(RetinaNet, AnchorsAreMadeOncePerInputSize) {
  manual_seed(11);
  RetinaNet model(small_config());
  NoGradGuard no_grad;
  const Tensor first = model.forward(images(1, 96, 128)).anchors;
  const Tensor again = model.forward(images(2, 96, 128)).anchors;
  EXPECT_EQ(again.raw_data(), first.raw_data()) << "the same input size reuses the cached anchors";
  const Tensor other = model.forward(images(1, 64, 96)).anchors;
  // P3..P7 of a 64x96 input: strides 8 to 128, P6 and P7 rounded up by their stride-2 convs.
  EXPECT_TRUE(tensors_near(other, generate_anchors(model.config().anchors, 64, 96, {{8, 12}, {4, 6}, {2, 3}, {1, 2}, {1, 1}}),
                           0.0));
}

TEST(RetinaNet, LossWithoutBoxesIsClassificationOnly) {
  manual_seed(12);
  auto model = std::make_shared<RetinaNet>(small_config());
  const RetinaNetOutputs out = model->forward(images(1, 64, 64));
  const RetinaNetLosses losses = model->compute_loss(out, {target({}, {})});
  const double cls = losses.classification.item();
  EXPECT_TRUE(std::isfinite(cls));
  EXPECT_GT(cls, 0.0);
  EXPECT_EQ(losses.bbox_regression.item(), 0.0);
  losses.total().backward();
  for (const auto& [name, p] : model->named_parameters()) {
    if (name == "head.classification_head.cls_logits.bias") {
      ASSERT_TRUE(p.grad().defined());
      EXPECT_GT(p.grad().abs().sum().item(), 0.0);
    }
    if (name == "head.regression_head.bbox_reg.bias" && p.grad().defined()) {
      EXPECT_EQ(p.grad().abs().sum().item(), 0.0);
    }
  }
}

TEST(RetinaNet, LossMatchesAHandComputationOnOneImage) {
  // A hand-made prediction for 3 anchors and 2 classes: anchor 0 matches the box exactly
  // (foreground, label 1), anchor 1 overlaps it with IoU 0.45 (ignored), anchor 2 is far away
  // (background).
  const Tensor anchors = from_vector<float>({0, 0, 10, 10, 0, 0, 10, 4.5f, 50, 50, 60, 60}, {3, 4});
  const Tensor logits = from_vector<float>({0.3f, -1.2f, 2.0f, 0.5f, -0.7f, 0.1f}, {1, 3, 2}).set_requires_grad(true);
  const Tensor deltas = from_vector<float>({0.1f, -0.2f, 0.05f, 0.0f, 1, 1, 1, 1, 1, 1, 1, 1}, {1, 3, 4})
                            .set_requires_grad(true);
  const RetinaNetLosses losses =
      retinanet_loss(logits, deltas, anchors, {target({0, 0, 10, 10}, {1})}, RetinaNetLossConfig{});
  const auto focal = [](double x, double t) {
    const double p = 1 / (1 + std::exp(-x));
    const double ce = -(t * std::log(p) + (1 - t) * std::log(1 - p));
    const double pt = p * t + (1 - p) * (1 - t);
    return (0.25 * t + 0.75 * (1 - t)) * ce * (1 - pt) * (1 - pt);
  };
  const double expected_cls = focal(0.3, 0) + focal(-1.2, 1) + focal(-0.7, 0) + focal(0.1, 0);
  EXPECT_NEAR(losses.classification.item(), expected_cls, 1e-6);
  EXPECT_NEAR(losses.bbox_regression.item(), 0.1 + 0.2 + 0.05, 1e-6);
  losses.total().backward();
  EXPECT_EQ(logits.grad().at({0, 1, 0}), 0.0);  // ignored anchor
  EXPECT_EQ(deltas.grad().at({0, 2, 0}), 0.0);  // background anchor
  EXPECT_NEAR(deltas.grad().at({0, 0, 1}), -1.0, 1e-6);
}

TEST(RetinaNet, LossAveragesImagesAndRejectsBadLabels) {
  const Tensor anchors = from_vector<float>({0, 0, 10, 10, 20, 20, 30, 30}, {2, 4});
  const Tensor logits = from_vector<float>({0.3f, -1.2f, 2.0f, 0.5f}, {1, 2, 2});
  const Tensor deltas = zeros({1, 2, 4});
  const auto one = retinanet_loss(logits, deltas, anchors, {target({0, 0, 10, 10}, {0})}, {});
  const auto two = retinanet_loss(cat({logits, logits}, 0), cat({deltas, deltas}, 0), anchors,
                                  {target({0, 0, 10, 10}, {0}), target({0, 0, 10, 10}, {0})}, {});
  EXPECT_NEAR(one.classification.item(), two.classification.item(), 1e-7);
  EXPECT_THROW(retinanet_loss(logits, deltas, anchors, {target({0, 0, 10, 10}, {2})}, {}), Error);
  EXPECT_THROW(retinanet_loss(logits, deltas, anchors, {}, {}), Error);
}

TEST(BoxLoss, DifferentiableDecodeMatchesTheKernel) {
  const Tensor anchors = from_vector<float>({0, 0, 32, 32, 10, 20, 74, 52}, {2, 4});
  const Tensor deltas = from_vector<float>({0.1f, -0.3f, 0.2f, -0.1f, 0.0f, 0.5f, 9.0f, -0.4f}, {2, 4});
  EXPECT_TRUE(tensors_near(decode_boxes_differentiable(anchors, deltas, {}), decode_boxes(anchors, deltas), 1e-4));
}

TEST(BoxLoss, RowWeightsEqualSelectingTheRows) {
  const Tensor deltas = from_vector<float>({0.1f, -0.3f, 0.2f, -0.1f, 0.7f, 0.5f, 2.0f, -0.4f, -0.2f, 0.1f, 0.3f, 0.0f},
                                           {3, 4});
  const Tensor anchors = from_vector<float>({0, 0, 32, 32, 10, 20, 74, 52, 5, 5, 40, 60}, {3, 4});
  const Tensor boxes = from_vector<float>({2, 1, 30, 35, 0, 0, 1, 1, 8, 2, 44, 50}, {3, 4});
  const Tensor rows = from_vector<int64_t>({0, 2}, {2}, {DType::Int64});
  const Tensor weights = from_vector<float>({1, 0, 1}, {3});
  for (const BoxLossKind kind : {BoxLossKind::L1, BoxLossKind::SmoothL1, BoxLossKind::GIoU}) {
    const BoxLossConfig config{.kind = kind, .smooth_l1_beta = 0.5};
    const Tensor selected = box_regression_loss(index_select(deltas, 0, rows), index_select(anchors, 0, rows),
                                                index_select(boxes, 0, rows), config, {});
    const Tensor weighted = box_regression_loss(deltas, anchors, boxes, config, {}, weights);
    EXPECT_NEAR(weighted.item(), selected.item(), 1e-5) << static_cast<int>(kind);
  }
}

TEST(BoxLoss, GiouByHand) {
  const Tensor a = f64({0, 0, 2, 2, 0, 0, 1, 1, 0, 0, 2, 2}, {3, 4});
  const Tensor b = f64({0, 0, 2, 2, 2, 2, 3, 3, 1, 0, 3, 2}, {3, 4});
  // Identical: 0. Disjoint unit squares, enclosure 9, union 2: 1 - (0 - 7 / 9). Half overlap:
  // IoU 2 / 6, enclosure = union: 1 - 1 / 3.
  EXPECT_TRUE(tensors_near(generalized_box_iou_loss(a, b, 0), f64({0, 1 + 7.0 / 9, 2.0 / 3}, {3}),
                           1e-12));
  const Tensor p = test::rand64({4, 4}, 3, 0, 1);
  const Tensor gt = f64({0, 0, 1, 1, 0.5, 0.5, 2, 2, 0, 0.2, 0.3, 3, 1, 1, 1.5, 1.2}, {4, 4});
  const Tensor anchors = f64({0, 0, 1, 1, 0, 0, 2, 2, 0, 0, 1, 3, 1, 1, 2, 2}, {4, 4});
  EXPECT_GRADCHECK(
      [&](const std::vector<Tensor>& in) {
        return box_regression_loss(in[0], anchors, gt, {.kind = BoxLossKind::GIoU}, {});
      },
      {p});
}

TEST(RetinaNet, PostprocessKeepsTheBestPerClassInsideTheImage) {
  // Two anchors over one level, 2 classes: anchor 0 scores high in class 1, anchor 1 (almost the
  // same box) a bit lower in class 1 (suppressed) and above threshold in class 0 (kept: NMS is per class).
  const Tensor anchors = from_vector<float>({-5, -5, 20, 20, -4, -5, 20, 20}, {2, 4});
  const Tensor logits = from_vector<float>({-5.0f, 3.0f, 0.0f, 2.0f}, {1, 2, 2});
  const Tensor deltas = zeros({1, 2, 4});
  const auto dets = postprocess_detections(logits, deltas, anchors, {2}, {{16, 18}}, {}, {});
  ASSERT_EQ(dets.size(), 1u);
  EXPECT_EQ(dets[0].labels.to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  EXPECT_TRUE(tensors_near(dets[0].scores, from_vector<float>({1 / (1 + std::exp(-3.0f)), 0.5f}, {2}), 1e-6));
  EXPECT_EQ(dets[0].boxes.slice(0, 0, 1).to_vector<float>(), (std::vector<float>{0, 0, 18, 16}));
  PostprocessConfig one;
  one.detections_per_image = 1;
  EXPECT_EQ(postprocess_detections(logits, deltas, anchors, {2}, {{16, 18}}, one, {})[0].scores.numel(), 1);
  PostprocessConfig strict;
  strict.score_threshold = 0.99;
  EXPECT_EQ(postprocess_detections(logits, deltas, anchors, {2}, {{16, 18}}, strict, {})[0].boxes.shape(),
            (Shape{0, 4}));
  // One NMS over both classes: the class-0 box on the same spot goes too.
  PostprocessConfig agnostic;
  agnostic.class_agnostic_nms = true;
  EXPECT_EQ(postprocess_detections(logits, deltas, anchors, {2}, {{16, 18}}, agnostic, {})[0].labels.to_vector<int64_t>(),
            (std::vector<int64_t>{1}));
}

}  // namespace
}  // namespace maskdet
