// RetinaNet loss: matching, the per-image targets (built on the host: they are small and need
// no gradient) and the two normalised terms.
#include "retinanet/retinanet_loss.h"

#include <algorithm>

#include "tensor/creation.h"

namespace maskdet {

namespace {

// What the matcher decided for one image, in the form the two loss terms consume.
struct ImageAssignment {
  std::vector<float> class_targets;    // (A * K): 1 at (foreground anchor, its box's label)
  std::vector<float> anchor_weights;   // (A): 0 for ignored anchors, else 1
  std::vector<int64_t> foreground;     // anchor indices
  std::vector<int64_t> matched_boxes;  // the box of each foreground anchor
};

ImageAssignment assign(const Tensor& anchors, const DetectionTarget& target, int64_t num_classes,
                       const MatcherConfig& matcher) {
  const int64_t num_anchors = anchors.size(0), num_boxes = target.boxes.size(0);
  const std::vector<int64_t> matches =
      num_boxes == 0 ? std::vector<int64_t>(num_anchors, kMatchBackground)
                     : match_anchors(box_iou(target.boxes, anchors), matcher).to_vector<int64_t>();
  const std::vector<int64_t> labels = target.labels.to_vector<int64_t>();
  ImageAssignment out{std::vector<float>(num_anchors * num_classes, 0.0f), std::vector<float>(num_anchors, 1.0f), {}, {}};
  for (int64_t a = 0; a < num_anchors; ++a) {
    const int64_t box = matches[a];
    if (box == kMatchIgnore) out.anchor_weights[a] = 0.0f;
    if (box < 0) continue;
    const int64_t label = labels[box];
    MASKDET_CHECK(label >= 0 && label < num_classes, "retinanet_loss: label ", label, " of box ", box,
                  " is outside [0, ", num_classes, ")");
    out.class_targets[a * num_classes + label] = 1.0f;
    out.foreground.push_back(a);
    out.matched_boxes.push_back(box);
  }
  return out;
}

Tensor index_tensor(const std::vector<int64_t>& indices, Device device) {
  return from_vector(indices, {static_cast<int64_t>(indices.size())}, {DType::Int64, device});
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
  }
}

}  // namespace

RetinaNetLosses retinanet_loss(const Tensor& cls_logits, const Tensor& bbox_regression, const Tensor& anchors,
                               const std::vector<DetectionTarget>& targets, const RetinaNetLossConfig& config) {
  check_inputs(cls_logits, bbox_regression, anchors, targets);
  const int64_t num_images = cls_logits.size(0), num_anchors = anchors.size(0), num_classes = cls_logits.size(2);
  const Device device = cls_logits.device();
  Tensor classification, regression;
  for (int64_t i = 0; i < num_images; ++i) {
    const DetectionTarget& target = targets[i];
    const Tensor boxes = target.boxes.to(device).to(anchors.dtype());
    const ImageAssignment assignment = assign(anchors, {boxes, target.labels}, num_classes, config.matcher);
    const double normaliser = std::max<double>(1.0, static_cast<double>(assignment.foreground.size()));

    const Tensor class_targets = from_vector(assignment.class_targets, {num_anchors, num_classes}, cls_logits.options());
    const Tensor weights = from_vector(assignment.anchor_weights, {num_anchors, 1}, cls_logits.options());
    const Tensor cls_term =
        sigmoid_focal_loss(cls_logits.select(0, i), class_targets, config.focal, weights, Reduction::Sum) / normaliser;

    // With no foreground these are empty selections, so the term is an exact 0 that still
    // belongs to the graph.
    const Tensor foreground = index_tensor(assignment.foreground, device);
    const Tensor box_term =
        box_regression_loss(index_select(bbox_regression.select(0, i), 0, foreground),
                            index_select(anchors, 0, foreground),
                            index_select(boxes, 0, index_tensor(assignment.matched_boxes, device)),
                            config.box_loss, config.box_coder) /
        normaliser;
    classification = classification.defined() ? classification + cls_term : cls_term;
    regression = regression.defined() ? regression + box_term : box_term;
  }
  return {classification / static_cast<double>(num_images), regression / static_cast<double>(num_images)};
}

}  // namespace maskdet
