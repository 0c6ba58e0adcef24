#include "retinanet/matcher.h"

#include "tensor/creation.h"

namespace maskdet {

Tensor match_anchors(const Tensor& iou, const MatcherConfig& config) {
  MASKDET_CHECK(iou.dim() == 2, "match_anchors: iou must be (boxes, anchors), got ", shape_str(iou.shape()));
  const Tensor matches = empty({iou.size(1)}, {DType::Int64, iou.device()});
  kernels::match_anchors(iou.contiguous(), config.fg_iou_threshold, config.bg_iou_threshold,
                         config.allow_low_quality_matches, matches);
  return matches;
}

}  // namespace maskdet
