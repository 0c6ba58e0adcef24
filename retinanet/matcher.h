// Anchor-to-ground-truth matching for training (Lin et al. 2017, sec. 4): an anchor whose best
// IoU with a ground-truth box is >= fg_iou_threshold is foreground (matched to that box),
// < bg_iou_threshold background, in between ignored. With allow_low_quality_matches, each box
// also keeps the anchors that overlap it best (ties included) even below the threshold, so no
// box is left without an anchor — as torchvision's Matcher does for RetinaNet.
#pragma once
#include "tensor/kernels/anchor_matching.h"
#include "tensor/tensor.h"

namespace maskdet {

struct MatcherConfig {
  double fg_iou_threshold = 0.5;
  double bg_iou_threshold = 0.4;
  bool allow_low_quality_matches = true;
};

// iou: (M boxes, N anchors) -> (N) int64 on iou's device: the matched box index, kMatchBackground
// or kMatchIgnore (tensor/kernels/anchor_matching.h). With no boxes (M = 0) every anchor is
// background.
Tensor match_anchors(const Tensor& iou, const MatcherConfig& config = {});

}  // namespace maskdet
