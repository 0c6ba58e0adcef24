// RetinaNet loss: matching and the per-image targets on the device of the predictions
// (tensor/kernels/anchor_matching.h), then the two normalised terms. Every anchor enters both
// terms with a weight (ignored anchors 0 in the focal loss, non-foreground anchors 0 in the box
// loss) and the foreground count stays a device tensor, so a CUDA step selects nothing by value
// and never waits for the host.
#include "retinanet/retinanet_loss.h"

#include <limits>

#include "tensor/creation.h"

namespace maskdet {

namespace {

// What the matcher decided for one image, as the two loss terms consume it (anchor_matching.h).
struct ImageTargets {
  Tensor class_targets;   // (A, K): 1 at (foreground anchor, its box's label)
  Tensor anchor_weights;  // (A, 1): 0 for ignored anchors, else 1
  Tensor foreground;      // (A): 1 for foreground anchors, else 0
  Tensor matched_boxes;   // (A, 4): a foreground anchor's box, else the anchor itself
};

// boxes: (M, 4) in anchors' dtype and labels: (M) int64, both on anchors' device.
ImageTargets image_targets(const Tensor& anchors, const Tensor& boxes, const Tensor& labels, int64_t num_classes,
                           const MatcherConfig& matcher) {
  const int64_t num_anchors = anchors.size(0);
  const TensorOptions options = anchors.options();
  const Tensor matches = match_anchors(box_iou(boxes, anchors), matcher);
  ImageTargets t{empty({num_anchors, num_classes}, options), empty({num_anchors}, options),
                 empty({num_anchors}, options), empty({num_anchors, 4}, options)};
  kernels::anchor_targets(matches, labels, boxes, anchors, t.class_targets, t.anchor_weights, t.foreground,
                          t.matched_boxes);
  t.anchor_weights = t.anchor_weights.unsqueeze(1);
  return t;
}

void check_inputs(const Tensor& cls_logits, const Tensor& bbox_regression, const Tensor& anchors,
                  const std::vector<DetectionTarget>& targets) {
  MASKDET_CHECK(cls_logits.dim() == 3 && bbox_regression.dim() == 3 && bbox_regression.size(2) == 4 &&
                    anchors.dim() == 2 && anchors.size(1) == 4,
                "retinanet_loss: expected cls_logits (N, A, K), bbox_regression (N, A, 4) and anchors (A, 4), got ",
                shape_str(cls_logits.shape()), ", ", shape_str(bbox_regression.shape()), " and ",
                shape_str(anchors.shape()));
  MASKDET_CHECK(cls_logits.size(0) == bbox_regression.size(0) && cls_logits.size(1) == anchors.size(0) &&
                    bbox_regression.size(1) == anchors.size(0),
                "retinanet_loss: cls_logits ", shape_str(cls_logits.shape()), ", bbox_regression ",
                shape_str(bbox_regression.shape()), " and anchors ", shape_str(anchors.shape()), " disagree");
  MASKDET_CHECK(cls_logits.size(0) > 0 && static_cast<int64_t>(targets.size()) == cls_logits.size(0),
                "retinanet_loss: ", targets.size(), " targets for ", cls_logits.size(0), " images");
  MASKDET_CHECK(anchors.device() == cls_logits.device() && bbox_regression.device() == cls_logits.device(),
                "retinanet_loss: cls_logits, bbox_regression and anchors must be on one device");
  for (size_t i = 0; i < targets.size(); ++i) {
    const DetectionTarget& t = targets[i];
    MASKDET_CHECK(t.boxes.defined() && t.labels.defined() && t.boxes.dim() == 2 && t.boxes.size(1) == 4 &&
                      t.labels.dim() == 1 && t.labels.size(0) == t.boxes.size(0) && t.labels.dtype() == DType::Int64,
                  "retinanet_loss: target ", i, " needs boxes (M, 4) and int64 labels (M), got ",
                  t.boxes.defined() ? shape_str(t.boxes.shape()) : "undefined", " and ",
                  t.labels.defined() ? shape_str(t.labels.shape()) : "undefined");
    // Checked here where the data pipeline made them; the CUDA kernel cannot report a bad label.
    if (!t.labels.device().is_cpu()) continue;
    const std::vector<int64_t> labels = t.labels.to_vector<int64_t>();
    for (size_t b = 0; b < labels.size(); ++b)
      MASKDET_CHECK(labels[b] >= 0 && labels[b] < cls_logits.size(2), "retinanet_loss: label ", labels[b], " of box ",
                    b, " of target ", i, " is outside [0, ", cls_logits.size(2), ")");
  }
}

}  // namespace

RetinaNetLosses retinanet_loss(const Tensor& cls_logits, const Tensor& bbox_regression, const Tensor& anchors,
                               const std::vector<DetectionTarget>& targets, const RetinaNetLossConfig& config) {
  check_inputs(cls_logits, bbox_regression, anchors, targets);
  const int64_t num_images = cls_logits.size(0), num_classes = cls_logits.size(2);
  const Device device = cls_logits.device();
  Tensor classification, regression;
  for (int64_t i = 0; i < num_images; ++i) {
    const DetectionTarget& target = targets[i];
    const Tensor boxes = target.boxes.to(device).to(anchors.dtype()).contiguous();
    const Tensor labels = target.labels.to(device).contiguous();
    const ImageTargets t = image_targets(anchors, boxes, labels, num_classes, config.matcher);
    const Tensor normaliser = clamp(sum(t.foreground), 1.0, std::numeric_limits<double>::infinity());

    const Tensor cls_term =
        sigmoid_focal_loss(cls_logits.select(0, i), t.class_targets, config.focal, t.anchor_weights, Reduction::Sum) /
        normaliser;
    // Without foreground every row weighs 0: the term is an exact 0 that still belongs to the graph.
    const Tensor box_term = box_regression_loss(bbox_regression.select(0, i), anchors, t.matched_boxes,
                                                config.box_loss, config.box_coder, t.foreground) /
                            normaliser;
    classification = classification.defined() ? classification + cls_term : cls_term;
    regression = regression.defined() ? regression + box_term : box_term;
  }
  return {classification / static_cast<double>(num_images), regression / static_cast<double>(num_images)};
}

}  // namespace maskdet
