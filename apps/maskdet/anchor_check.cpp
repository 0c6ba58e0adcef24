// Matching annotated boxes to anchors as training does (anchor_check.h).
#include "apps/maskdet/anchor_check.h"

#include "apps/data/batch.h"
#include "retinanet/box_ops.h"
#include "retinanet/matcher.h"
#include "tensor/creation.h"

namespace maskdet::app {

namespace {
// Up to data::collate's default multiple, the batch padding.
int64_t round_up(int64_t v) {
  constexpr int64_t m = data::kSizeDivisible;
  return (v + m - 1) / m * m;
}
int64_t half_rounded_up(int64_t v) { return (v + 1) / 2; }
}  // namespace

std::vector<FeatureSize> pyramid_sizes(int64_t height, int64_t width) {
  std::vector<FeatureSize> sizes;
  for (const int64_t stride : {8, 16, 32}) sizes.push_back({height / stride, width / stride});
  for (int extra = 0; extra < 2; ++extra) sizes.push_back({half_rounded_up(sizes.back().height), half_rounded_up(sizes.back().width)});
  return sizes;
}

AnchorCheck check_anchors(const std::vector<data::BoxAnnotation>& boxes, data::PixelSize resized,
                          const RetinaNetConfig& config) {
  const int64_t height = round_up(resized.height), width = round_up(resized.width);
  const Tensor anchors = generate_anchors(config.anchors, height, width, pyramid_sizes(height, width));
  AnchorCheck check;
  check.anchors = anchors.to_vector<float>();
  check.boxes.resize(boxes.size());
  if (boxes.empty()) return check;
  std::vector<float> coords;
  for (const auto& b : boxes) coords.insert(coords.end(), {b.x1, b.y1, b.x2, b.y2});
  const Tensor iou = box_iou(from_vector(coords, {static_cast<int64_t>(boxes.size()), 4}), anchors);
  const std::vector<float> values = iou.to_vector<float>();
  const std::vector<int64_t> matches = match_anchors(iou, config.loss.matcher).to_vector<int64_t>();
  const size_t num_anchors = matches.size();
  for (size_t a = 0; a < num_anchors; ++a)
    if (matches[a] >= 0) check.boxes[static_cast<size_t>(matches[a])].anchors.push_back(static_cast<int64_t>(a));
  for (size_t b = 0; b < boxes.size(); ++b)
    for (size_t a = 0; a < num_anchors; ++a)
      check.boxes[b].best_iou = std::max<double>(check.boxes[b].best_iou, values[b * num_anchors + a]);
  return check;
}

}  // namespace maskdet::app
