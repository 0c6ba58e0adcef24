#include "retinanet/matcher.h"

#include "tensor/creation.h"

namespace maskdet {

Tensor match_anchors(const Tensor& iou, const MatcherConfig& config) {
  MASKDET_CHECK(iou.dim() == 2, "match_anchors: iou must be (boxes, anchors), got ", shape_str(iou.shape()));
  MASKDET_CHECK(config.bg_iou_threshold <= config.fg_iou_threshold, "match_anchors: background threshold ",
                config.bg_iou_threshold, " above foreground threshold ", config.fg_iou_threshold);
  const int64_t m = iou.size(0), n = iou.size(1);
  std::vector<int64_t> matches(n, kMatchBackground);
  if (m == 0 || n == 0) return from_vector(matches, {n}, {DType::Int64});
  const std::vector<double> q = iou.to_vector<double>();
  std::vector<double> best(n, -1.0);
  std::vector<int64_t> best_box(n, 0);
  for (int64_t b = 0; b < m; ++b)
    for (int64_t a = 0; a < n; ++a)
      if (q[b * n + a] > best[a]) {  // strict: the first box wins ties, as argmax does
        best[a] = q[b * n + a];
        best_box[a] = b;
      }
  for (int64_t a = 0; a < n; ++a) {
    if (best[a] >= config.fg_iou_threshold) matches[a] = best_box[a];
    else if (best[a] >= config.bg_iou_threshold) matches[a] = kMatchIgnore;
  }
  if (config.allow_low_quality_matches) {
    for (int64_t b = 0; b < m; ++b) {
      double highest = 0;
      for (int64_t a = 0; a < n; ++a) highest = std::max(highest, q[b * n + a]);
      if (highest <= 0) continue;  // a box no anchor touches cannot be matched
      for (int64_t a = 0; a < n; ++a)
        if (q[b * n + a] == highest) matches[a] = best_box[a];
    }
  }
  return from_vector(matches, {n}, {DType::Int64});
}

}  // namespace maskdet
