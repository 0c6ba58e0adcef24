// Box-regression losses: the differentiable decode, GIoU, and the choice between the variants.
#include "retinanet/box_loss.h"

#include <limits>

#include "autograd/ops.h"

namespace maskdet {

namespace {

struct Corners {
  Tensor x1, y1, x2, y2;  // each (F)
};

Corners corners(const Tensor& boxes) {
  return {boxes.select(1, 0), boxes.select(1, 1), boxes.select(1, 2), boxes.select(1, 3)};
}

void check_rows(const Tensor& a, const Tensor& b, const char* who) {
  MASKDET_CHECK(a.dim() == 2 && a.size(1) == 4 && a.shape() == b.shape(), who, ": expected two (F, 4) tensors, got ",
                shape_str(a.shape()), " and ", shape_str(b.shape()));
}

}  // namespace

Tensor decode_boxes_differentiable(const Tensor& anchors, const Tensor& deltas, const BoxCoderWeights& coder) {
  check_rows(anchors, deltas, "decode_boxes_differentiable");
  const Corners a = corners(anchors);
  const Tensor widths = a.x2 - a.x1, heights = a.y2 - a.y1;
  const Tensor ctr_x = a.x1 + 0.5 * widths, ctr_y = a.y1 + 0.5 * heights;
  const auto& w = coder.weights;
  const double no_floor = -std::numeric_limits<double>::infinity();
  // Clamped so that exp cannot overflow on a wild early prediction.
  const Tensor dw = clamp(deltas.select(1, 2) / w[2], no_floor, coder.max_log_scale);
  const Tensor dh = clamp(deltas.select(1, 3) / w[3], no_floor, coder.max_log_scale);
  const Tensor centre_x = deltas.select(1, 0) / w[0] * widths + ctr_x;
  const Tensor centre_y = deltas.select(1, 1) / w[1] * heights + ctr_y;
  const Tensor half_w = 0.5 * (exp(dw) * widths), half_h = 0.5 * (exp(dh) * heights);
  return stack({centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h}, 1);
}

Tensor generalized_box_iou_loss(const Tensor& predicted, const Tensor& target, double eps) {
  check_rows(predicted, target, "generalized_box_iou_loss");
  const Corners p = corners(predicted), t = corners(target);
  // relu of a negative overlap is 0: disjoint boxes have no intersection.
  const Tensor intersection =
      relu(minimum(p.x2, t.x2) - maximum(p.x1, t.x1)) * relu(minimum(p.y2, t.y2) - maximum(p.y1, t.y1));
  const Tensor union_area = (p.x2 - p.x1) * (p.y2 - p.y1) + (t.x2 - t.x1) * (t.y2 - t.y1) - intersection;
  const Tensor iou = intersection / (union_area + eps);
  const Tensor enclosure = (maximum(p.x2, t.x2) - minimum(p.x1, t.x1)) * (maximum(p.y2, t.y2) - minimum(p.y1, t.y1));
  return 1.0 - (iou - (enclosure - union_area) / (enclosure + eps));
}

Tensor box_regression_loss(const Tensor& deltas, const Tensor& anchors, const Tensor& matched_boxes,
                           const BoxLossConfig& config, const BoxCoderWeights& coder, const Tensor& row_weights) {
  MASKDET_CHECK(!row_weights.defined() || (deltas.dim() == 2 && row_weights.shape() == Shape{deltas.size(0)}),
                "box_regression_loss: row_weights has shape ", shape_str(row_weights.shape()), " for deltas ",
                shape_str(deltas.shape()));
  const Reduction reduction = row_weights.defined() ? Reduction::None : Reduction::Sum;
  // Per element (F, 4) for the coder's losses, per row (F) for GIoU; then weighted and summed.
  Tensor loss;
  switch (config.kind) {
    case BoxLossKind::L1: loss = l1_loss(deltas, encode_boxes(anchors, matched_boxes, coder), reduction); break;
    case BoxLossKind::SmoothL1:
      loss = smooth_l1_loss(deltas, encode_boxes(anchors, matched_boxes, coder), config.smooth_l1_beta, reduction);
      break;
    case BoxLossKind::GIoU:
      loss = generalized_box_iou_loss(decode_boxes_differentiable(anchors, deltas, coder), matched_boxes,
                                      config.giou_eps);
      break;
    default: MASKDET_FAIL("box_regression_loss: unknown loss kind");
  }
  if (!row_weights.defined()) return config.kind == BoxLossKind::GIoU ? sum(loss) : loss;
  return sum(loss * (loss.dim() == 2 ? row_weights.unsqueeze(1) : row_weights));
}

}  // namespace maskdet
