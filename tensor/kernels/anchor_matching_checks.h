// The argument checks of the anchor-matching kernels (tensor/kernels/anchor_matching.h), for
// both backends (tensor/kernels/kernel_checks.h says how they share them), and the range checks
// of anchor_targets' match and label values, which both backends raise in these words.
#pragma once
#include "tensor/kernels/anchor_matching.h"
#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// t: contiguous, `shape`, `dtype`; on CUDA also on `device`.
inline void check_matching_operand(const Tensor& t, const Shape& shape, DType dtype, Device device,
                                   const char* kernel, const char* what, Backend backend) {
  MASKDET_CHECK(t.defined(), kernel, ": ", what, " is undefined");
  check_device(t, device, kernel, what, backend);
  check_same_shape(t, shape, kernel, what);
  MASKDET_CHECK(t.dtype() == dtype, kernel, ": ", what, " is ", dtype_name(t.dtype()), ", expected ",
                dtype_name(dtype));
  MASKDET_CHECK(t.is_contiguous(), kernel, ": ", what, " must be contiguous (strides ", shape_str(t.strides()), ")");
}

// iou: (M, A) float; matches: (A) int64.
inline void check_match_anchors_args(const Tensor& iou, double fg_threshold, double bg_threshold,
                                     const Tensor& matches, Backend backend) {
  MASKDET_CHECK(iou.defined() && iou.dim() == 2, "match_anchors: iou must be (boxes, anchors), got ",
                iou.defined() ? shape_str(iou.shape()) : "undefined");
  MASKDET_CHECK(is_floating(iou.dtype()), "match_anchors: iou is ", dtype_name(iou.dtype()), ", expected a float dtype");
  MASKDET_CHECK(bg_threshold <= fg_threshold, "match_anchors: background threshold ", bg_threshold,
                " above foreground threshold ", fg_threshold);
  if (backend == Backend::Cuda)
    MASKDET_CHECK(matches.is_cuda(), "match_anchors: the CUDA kernel got matches on ", matches.device().str());
  check_matching_operand(iou, iou.shape(), iou.dtype(), matches.device(), "match_anchors", "iou", backend);
  check_matching_operand(matches, {iou.size(1)}, DType::Int64, matches.device(), "match_anchors", "matches", backend);
}

// matches: (A) int64; labels: (M) int64; boxes: (M, 4); anchors, matched_boxes: (A, 4);
// class_targets: (A, K); anchor_weights, foreground: (A); the float tensors in anchors' dtype.
inline void check_anchor_targets_args(const Tensor& matches, const Tensor& labels, const Tensor& boxes,
                                      const Tensor& anchors, const Tensor& class_targets,
                                      const Tensor& anchor_weights, const Tensor& foreground,
                                      const Tensor& matched_boxes, Backend backend) {
  const char* kernel = "anchor_targets";
  MASKDET_CHECK(matches.defined() && matches.dim() == 1, kernel, ": matches must be (A), got ",
                matches.defined() ? shape_str(matches.shape()) : "undefined");
  MASKDET_CHECK(boxes.defined() && boxes.dim() == 2 && boxes.size(1) == 4, kernel, ": boxes must be (M, 4), got ",
                boxes.defined() ? shape_str(boxes.shape()) : "undefined");
  MASKDET_CHECK(class_targets.defined() && class_targets.dim() == 2, kernel, ": class_targets must be (A, K), got ",
                class_targets.defined() ? shape_str(class_targets.shape()) : "undefined");
  MASKDET_CHECK(anchors.defined() && is_floating(anchors.dtype()), kernel, ": anchors must be a float tensor");
  if (backend == Backend::Cuda)
    MASKDET_CHECK(matches.is_cuda(), kernel, ": the CUDA kernel got matches on ", matches.device().str());
  const Device device = matches.device();
  const int64_t a = matches.size(0), m = boxes.size(0), k = class_targets.size(1);
  const DType dtype = anchors.dtype();
  check_matching_operand(matches, {a}, DType::Int64, device, kernel, "matches", backend);
  check_matching_operand(labels, {m}, DType::Int64, device, kernel, "labels", backend);
  check_matching_operand(boxes, {m, 4}, dtype, device, kernel, "boxes", backend);
  check_matching_operand(anchors, {a, 4}, dtype, device, kernel, "anchors", backend);
  check_matching_operand(class_targets, {a, k}, dtype, device, kernel, "class_targets", backend);
  check_matching_operand(anchor_weights, {a}, dtype, device, kernel, "anchor_weights", backend);
  check_matching_operand(foreground, {a}, dtype, device, kernel, "foreground", backend);
  check_matching_operand(matched_boxes, {a, 4}, dtype, device, kernel, "matched_boxes", backend);
}

// anchor_targets' value checks, anchor by anchor: its match is a box in [0, m) or a match code,
// and a matched box's label is a class in [0, k). The CPU checks each anchor as it writes it; the
// CUDA kernel flags the first bad anchor and the host then runs these on its values.
inline void check_anchor_match(int64_t anchor, int64_t box, int64_t boxes) {
  MASKDET_CHECK(box >= kMatchIgnore && box < boxes, "anchor_targets: anchor ", anchor, " is matched to box ", box,
                " of ", boxes);
}
inline void check_box_label(int64_t label, int64_t box, int64_t classes) {
  MASKDET_CHECK(label >= 0 && label < classes, "anchor_targets: label ", label, " of box ", box, " is outside [0, ",
                classes, ")");
}

}  // namespace maskdet::kernels
