// The box-regression loss of RetinaNet's foreground anchors, in the variants torchvision's
// detection models use: L1 on the encoded deltas (torchvision's retinanet_resnet50_fpn),
// smooth L1 with a beta (Lin et al. 2017, "Focal Loss for Dense Object Detection", sec. 4.1
// trains with it), and GIoU on the decoded boxes (Rezatofighi et al. 2019, "Generalized
// Intersection over Union"; torchvision's retinanet_resnet50_fpn_v2).
#pragma once
#include "retinanet/box_ops.h"
#include "tensor/tensor.h"

namespace maskdet {

enum class BoxLossKind { L1, SmoothL1, GIoU };

struct BoxLossConfig {
  BoxLossKind kind = BoxLossKind::L1;
  double smooth_l1_beta = 1.0;  // torchvision's default for "smooth_l1"
  double giou_eps = 1e-7;       // keeps the IoU and enclosure ratios finite for empty boxes
};

// Differentiable in deltas: the same arithmetic as decode_boxes (box_ops.h), which serves
// post-processing without a graph. anchors, deltas: (F, 4) -> boxes (F, 4) as (x1, y1, x2, y2).
Tensor decode_boxes_differentiable(const Tensor& anchors, const Tensor& deltas, const BoxCoderWeights& coder);

// 1 - GIoU of each pair of rows. predicted, target: (F, 4) -> (F); differentiable in predicted.
Tensor generalized_box_iou_loss(const Tensor& predicted, const Tensor& target, double eps);

// The loss summed over F anchors (the caller normalises by the foreground count), each anchor's
// term times its row weight when row_weights is given: the loss takes every anchor with weight 1
// for foreground and 0 for the rest, so that no selection by value (and no host round trip) is
// needed. deltas: (F, 4) predicted; anchors, matched_boxes: (F, 4); row_weights: (F) or
// undefined -> () differentiable in deltas.
Tensor box_regression_loss(const Tensor& deltas, const Tensor& anchors, const Tensor& matched_boxes,
                           const BoxLossConfig& config, const BoxCoderWeights& coder,
                           const Tensor& row_weights = Tensor());

}  // namespace maskdet
