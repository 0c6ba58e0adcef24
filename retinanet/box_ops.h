// Box operations on whole tensors, for the detector: allocate, call the box kernels
// (tensor/kernels/boxes.h), return. None of these is differentiable: they make targets and
// post-process detections.
#pragma once
#include <array>

#include "tensor/tensor.h"

namespace maskdet {

// a: (N, 4), b: (M, 4) -> (N, M) IoU.
Tensor box_iou(const Tensor& a, const Tensor& b);

struct BoxCoderWeights {
  std::array<double, 4> weights{1.0, 1.0, 1.0, 1.0};  // (wx, wy, ww, wh); RetinaNet uses 1
  double max_log_scale = 4.135166556742356;           // log(1000 / 16), as torchvision clamps dw, dh
};
// anchors, boxes: (N, 4) -> deltas (N, 4).
Tensor encode_boxes(const Tensor& anchors, const Tensor& boxes, const BoxCoderWeights& coder = {});
// anchors, deltas: (N, 4) -> boxes (N, 4).
Tensor decode_boxes(const Tensor& anchors, const Tensor& deltas, const BoxCoderWeights& coder = {});
// A clipped copy: x in [0, width], y in [0, height].
Tensor clip_boxes(const Tensor& boxes, double height, double width);
// Indices (int64) of the boxes NMS keeps, by descending score.
Tensor nms(const Tensor& boxes, const Tensor& scores, double iou_threshold);
// Same, suppressing only within a label: labels (N) int64.
Tensor batched_nms(const Tensor& boxes, const Tensor& scores, const Tensor& labels, double iou_threshold);

}  // namespace maskdet
