// Anchor matching for detector training (Lin et al. 2017, "Focal Loss for Dense Object
// Detection", sec. 4, with the rules of torchvision's det_utils.Matcher), and the per-anchor
// targets RetinaNet's two loss terms consume. Both run on the device of the IoU matrix, so a
// CUDA training step never copies matches to the host: the caller knows every output's size
// before the kernels run (A anchors, K classes), and nothing is selected by value.
#pragma once
#include "tensor/kernels/dispatch.h"

namespace maskdet {

// Match codes other than a box index.
constexpr int64_t kMatchBackground = -1;
constexpr int64_t kMatchIgnore = -2;

// For each anchor a, its best box: the highest IoU over the M boxes, the lowest box index on ties
// (as argmax). matches[a] = that box when its IoU >= fg_threshold, kMatchIgnore when the IoU is in
// [bg_threshold, fg_threshold), else kMatchBackground. With allow_low_quality, every anchor whose
// IoU with some box b equals b's highest IoU over all anchors (when that is > 0; ties included)
// is matched to its own best box even below fg_threshold: no box that any anchor touches is left
// without one. Thresholds compare in double.
// iou: (M, A) float32 or float64; matches: (A) int64; both contiguous. Overwrites matches; with
// M = 0 every anchor is background.
MASKDET_KERNEL(match_anchors,
               (const Tensor& iou, double fg_threshold, double bg_threshold, bool allow_low_quality,
                const Tensor& matches),
               matches.device(), iou, fg_threshold, bg_threshold, allow_low_quality, matches)

// One image's training targets from its matches:
//   class_targets[a][k] = 1 where a is foreground and its box's label is k, else 0;
//   anchor_weights[a]   = 0 where a is ignored, else 1 (the focal loss's per-anchor weight);
//   foreground[a]       = 1 where a is foreground, else 0 (the box loss's weight; its sum is
//                         the number of foreground anchors that normalises both terms);
//   matched_boxes[a]    = boxes[matches[a]] where a is foreground, else anchors[a], so that
//                         encoding every row against its anchor stays finite.
// matches: (A) int64 as match_anchors writes them; labels: (M) int64; boxes: (M, 4); anchors,
// matched_boxes: (A, 4); class_targets: (A, K); anchor_weights, foreground: (A). The float
// tensors share one dtype; every tensor is contiguous. Overwrites the four outputs.
// A match outside [kMatchIgnore, M), or a matched box's label outside [0, K): both backends throw,
// naming the first such anchor in index order, and leave the outputs partly written. The CUDA
// kernel finds out on the device, so it costs one stream synchronisation per call.
MASKDET_KERNEL(anchor_targets,
               (const Tensor& matches, const Tensor& labels, const Tensor& boxes, const Tensor& anchors,
                const Tensor& class_targets, const Tensor& anchor_weights, const Tensor& foreground,
                const Tensor& matched_boxes),
               matches.device(), matches, labels, boxes, anchors, class_targets, anchor_weights, foreground,
               matched_boxes)

}  // namespace maskdet
