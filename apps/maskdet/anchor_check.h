// Which of the model's anchors each annotated box gets in training, computed the way training
// computes it: the image resized as the pipeline resizes it, padded to a multiple of 32 as a
// batch is, the anchors of RetinaNet's five levels for that size, and the model's matcher
// (retinanet/matcher.h). A box whose best anchor overlaps it less than the foreground IoU
// threshold learns only through the matcher's low-quality fallback, and a box no anchor is
// matched to not at all — the thing to catch before training (keras-retinanet's debug.py).
#pragma once
#include <cstdint>
#include <vector>

#include "apps/data/annotations.h"
#include "apps/data/rgb_image.h"
#include "retinanet/retinanet.h"

namespace maskdet::app {

struct BoxAnchors {
  std::vector<int64_t> anchors;  // rows of AnchorCheck::anchors the matcher assigns to the box
  double best_iou = 0;           // with any anchor
  bool matched() const { return !anchors.empty(); }
};

struct AnchorCheck {
  std::vector<float> anchors;  // 4 per anchor, x1 y1 x2 y2 in the resized image's pixels
  std::vector<BoxAnchors> boxes;  // per box
};

// The feature-map sizes of P3..P7 for an input of height x width (both multiples of 32, as the
// batch padding makes them): strides 8, 16, 32, then two stride-2 convolutions rounding up.
std::vector<FeatureSize> pyramid_sizes(int64_t height, int64_t width);

// boxes: in the pixels of an image of `resized` size (the network's input before padding).
AnchorCheck check_anchors(const std::vector<data::BoxAnnotation>& boxes, data::PixelSize resized,
                          const RetinaNetConfig& config);

}  // namespace maskdet::app
