// Box kernels for detection: pairwise IoU, the RetinaNet/Faster R-CNN box coder, clipping and
// non-maximum suppression. Boxes are (x1, y1, x2, y2) in pixels; width = x2 - x1 (no +1), as
// torchvision.ops does.
#pragma once
#include <array>

#include "tensor/kernels/dispatch.h"

namespace maskdet {

// out[i][j] = IoU(a[i], b[j]); 0 where the union is empty.
// a: (N, 4), b: (M, 4), out: (N, M), one float dtype, contiguous. Overwrites out.
MASKDET_KERNEL(box_iou, (const Tensor& a, const Tensor& b, const Tensor& out), out.device(), a, b, out)

// Regression targets of `boxes` relative to `anchors` (Girshick et al. 2014, "Rich feature
// hierarchies ...", appendix C): dx = wx (cx - acx) / aw, dy = wy (cy - acy) / ah,
// dw = ww log(w / aw), dh = wh log(h / ah).
// anchors, boxes, deltas: (N, 4), contiguous. Overwrites deltas.
MASKDET_KERNEL(encode_boxes,
               (const Tensor& anchors, const Tensor& boxes, std::array<double, 4> weights, const Tensor& deltas),
               deltas.device(), anchors, boxes, weights, deltas)

// The inverse of encode_boxes; dw and dh are clamped to max_log_scale first so exp cannot blow up.
// anchors, deltas, boxes: (N, 4), contiguous. Overwrites boxes.
MASKDET_KERNEL(decode_boxes,
               (const Tensor& anchors, const Tensor& deltas, std::array<double, 4> weights, double max_log_scale,
                const Tensor& boxes),
               boxes.device(), anchors, deltas, weights, max_log_scale, boxes)

// Clamps x to [0, width] and y to [0, height] in place. boxes: (N, 4), contiguous.
MASKDET_KERNEL(clip_boxes, (const Tensor& boxes, double height, double width), boxes.device(), boxes, height, width)

// Greedy non-maximum suppression: visits boxes by descending score (ties: lower index first)
// and drops every box whose IoU with an already kept box is > iou_threshold.
// boxes: (N, 4), scores: (N), keep: (N) int64. Writes the kept indices, by descending score,
// to keep[0 .. num_kept) and sets num_kept; the rest of keep is left unspecified. The CUDA
// kernel takes at most cuda_nms_max_boxes() = 92,672 boxes (tensor/kernels/boxes_checks.h).
MASKDET_KERNEL(nms,
               (const Tensor& boxes, const Tensor& scores, double iou_threshold, const Tensor& keep,
                int64_t& num_kept),
               boxes.device(), boxes, scores, iou_threshold, keep, num_kept)

// Class-aware NMS: boxes only suppress boxes of the same label. labels: (N) int64.
// Output as nms: kept indices by descending score.
MASKDET_KERNEL(batched_nms,
               (const Tensor& boxes, const Tensor& scores, const Tensor& labels, double iou_threshold,
                const Tensor& keep, int64_t& num_kept),
               boxes.device(), boxes, scores, labels, iou_threshold, keep, num_kept)

}  // namespace maskdet
