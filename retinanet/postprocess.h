// From RetinaNet's dense predictions to detections (Lin et al. 2017, "Focal Loss for Dense
// Object Detection", sec. 5.1 "Inference"), as torchvision's RetinaNet.postprocess_detections:
// per image and per pyramid level, sigmoid scores of every (anchor, class) pair above the score
// threshold, at most topk_candidates of them by score; their boxes decoded from the anchors and
// clipped to the image; then, over all levels, NMS within each class, and the best
// detections_per_image kept, by descending score. Runs on the host without a graph.
#pragma once
#include <cstdint>
#include <vector>

#include "retinanet/box_ops.h"
#include "tensor/tensor.h"

namespace maskdet {

struct PostprocessConfig {
  double score_threshold = 0.05;
  int64_t topk_candidates = 1000;  // per level, before NMS
  double nms_iou_threshold = 0.5;
  int64_t detections_per_image = 300;
  // One NMS over all classes, so a box also suppresses overlapping boxes of other classes: for
  // classes that exclude each other on one object (mask / noMask on one face). Off, as in
  // torchvision, NMS runs per class.
  bool class_agnostic_nms = false;
};

struct ImageSize {
  int64_t height, width;
};

struct Detections {
  Tensor boxes;   // (D, 4) float32, (x1, y1, x2, y2) within the image
  Tensor scores;  // (D) float32, descending
  Tensor labels;  // (D) int64, in [0, K)
};

// cls_logits: (N, A, K); bbox_regression: (N, A, 4); anchors: (A, 4); anchors_per_level: how
// many of the A rows each level has, in order; image_sizes: N entries, the part of the input
// tensor each image fills (boxes are clipped to it).
std::vector<Detections> postprocess_detections(const Tensor& cls_logits, const Tensor& bbox_regression,
                                               const Tensor& anchors, const std::vector<int64_t>& anchors_per_level,
                                               const std::vector<ImageSize>& image_sizes,
                                               const PostprocessConfig& config, const BoxCoderWeights& coder);

}  // namespace maskdet
