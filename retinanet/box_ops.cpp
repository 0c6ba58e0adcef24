#include "retinanet/box_ops.h"

#include "tensor/creation.h"
#include "tensor/kernels/boxes.h"

namespace maskdet {

Tensor box_iou(const Tensor& a, const Tensor& b) {
  MASKDET_CHECK(a.dim() == 2 && b.dim() == 2, "box_iou: boxes must be (N, 4), got ", shape_str(a.shape()), " and ",
                shape_str(b.shape()));
  Tensor out = empty({a.size(0), b.size(0)}, a.options());
  kernels::box_iou(a.contiguous(), b.contiguous(), out);
  return out;
}

Tensor encode_boxes(const Tensor& anchors, const Tensor& boxes, const BoxCoderWeights& coder) {
  Tensor deltas = empty(anchors.shape(), anchors.options());
  kernels::encode_boxes(anchors.contiguous(), boxes.contiguous(), coder.weights, deltas);
  return deltas;
}

Tensor decode_boxes(const Tensor& anchors, const Tensor& deltas, const BoxCoderWeights& coder) {
  Tensor boxes = empty(anchors.shape(), anchors.options());
  kernels::decode_boxes(anchors.contiguous(), deltas.contiguous(), coder.weights, coder.max_log_scale, boxes);
  return boxes;
}

Tensor clip_boxes(const Tensor& boxes, double height, double width) {
  Tensor out = boxes.detach().clone();
  kernels::clip_boxes(out, height, width);
  return out;
}

namespace {
Tensor first(const Tensor& keep, int64_t n) { return keep.slice(0, 0, n).clone(); }
}  // namespace

Tensor nms(const Tensor& boxes, const Tensor& scores, double iou_threshold) {
  Tensor keep = empty({boxes.dim() > 0 ? boxes.size(0) : 0}, boxes.options().with_dtype(DType::Int64));
  int64_t kept = 0;
  kernels::nms(boxes.contiguous(), scores.contiguous(), iou_threshold, keep, kept);
  return first(keep, kept);
}

Tensor batched_nms(const Tensor& boxes, const Tensor& scores, const Tensor& labels, double iou_threshold) {
  Tensor keep = empty({boxes.dim() > 0 ? boxes.size(0) : 0}, boxes.options().with_dtype(DType::Int64));
  int64_t kept = 0;
  kernels::batched_nms(boxes.contiguous(), scores.contiguous(), labels.contiguous(), iou_threshold, keep, kept);
  return first(keep, kept);
}

}  // namespace maskdet
