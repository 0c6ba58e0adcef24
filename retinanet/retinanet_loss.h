// RetinaNet's training loss (Lin et al. 2017, "Focal Loss for Dense Object Detection",
// sec. 3-4), computed as torchvision's RetinaNet.compute_loss does. Per image:
//   - anchors are matched to the ground-truth boxes (matcher.h: foreground, background, ignored);
//   - classification: sigmoid focal loss summed over every anchor that is not ignored and over
//     all K classes (a foreground anchor's target is 1 in its box's label column, 0 elsewhere;
//     background anchors' targets are all 0), divided by max(1, foreground anchors);
//   - box regression: the box loss (box_loss.h) summed over the foreground anchors against their
//     matched boxes, divided by max(1, foreground anchors).
// Each term is then averaged over the images of the batch. An image without boxes contributes
// only classification (every anchor background) and a zero box term.
#pragma once
#include <vector>

#include "autograd/ops.h"
#include "retinanet/box_loss.h"
#include "retinanet/box_ops.h"
#include "retinanet/matcher.h"

namespace maskdet {

// The ground truth of one image, in the input tensor's pixel coordinates.
struct DetectionTarget {
  Tensor boxes;   // (M, 4) float32, (x1, y1, x2, y2); M may be 0
  Tensor labels;  // (M) int64, each in [0, num_classes)
};

struct RetinaNetLossConfig {
  MatcherConfig matcher;  // IoU >= 0.5 foreground, < 0.4 background, low-quality matches kept
  BoxCoderWeights box_coder;
  BoxLossConfig box_loss;  // L1, as torchvision
  FocalLossOptions focal;  // alpha 0.25, gamma 2
};

struct RetinaNetLosses {
  Tensor classification;   // () differentiable
  Tensor bbox_regression;  // () differentiable
  Tensor total() const { return classification + bbox_regression; }
};

// cls_logits: (N, A, K); bbox_regression: (N, A, 4); anchors: (A, 4), the same for every image;
// targets: N entries.
RetinaNetLosses retinanet_loss(const Tensor& cls_logits, const Tensor& bbox_regression, const Tensor& anchors,
                               const std::vector<DetectionTarget>& targets, const RetinaNetLossConfig& config);

}  // namespace maskdet
