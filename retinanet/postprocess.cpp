// Post-processing: candidate selection per level on the host, then the box kernels (decode,
// clip, class-aware NMS) on the selected few.
#include "retinanet/postprocess.h"

#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "tensor/creation.h"

namespace maskdet {

namespace {

// The surviving (anchor, class) pairs of one image, over all levels.
struct Candidates {
  std::vector<float> scores;
  std::vector<int64_t> labels;
  std::vector<float> deltas;   // 4 per candidate
  std::vector<float> anchors;  // 4 per candidate
  int64_t size() const { return static_cast<int64_t>(scores.size()); }
};

// Appends one level's best pairs: logits (rows * K) of anchors first_anchor.. of this image.
void select_level(const float* logits, int64_t rows, int64_t num_classes, int64_t first_anchor, const float* deltas,
                  const float* anchors, const PostprocessConfig& config, Candidates& out) {
  // The threshold compared in float32, as a float32 tensor compares with a Python scalar.
  const float threshold = static_cast<float>(config.score_threshold);
  std::vector<std::pair<float, int64_t>> kept;  // (score, row * K + class)
  for (int64_t j = 0; j < rows * num_classes; ++j) {
    const float score = 1.0f / (1.0f + std::exp(-logits[j]));
    if (score > threshold) kept.emplace_back(score, j);
  }
  const size_t k = static_cast<size_t>(std::min<int64_t>(config.topk_candidates, static_cast<int64_t>(kept.size())));
  // Higher score first; ties by position, so the result does not depend on the sort.
  std::partial_sort(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(k), kept.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  for (size_t c = 0; c < k; ++c) {
    const int64_t anchor = first_anchor + kept[c].second / num_classes;
    out.scores.push_back(kept[c].first);
    out.labels.push_back(kept[c].second % num_classes);
    out.deltas.insert(out.deltas.end(), deltas + 4 * anchor, deltas + 4 * anchor + 4);
    out.anchors.insert(out.anchors.end(), anchors + 4 * anchor, anchors + 4 * anchor + 4);
  }
}

Detections no_detections() {
  return {zeros({0, 4}), zeros({0}), zeros({0}, {DType::Int64})};
}

}  // namespace

std::vector<Detections> postprocess_detections(const Tensor& cls_logits, const Tensor& bbox_regression,
                                               const Tensor& anchors, const std::vector<int64_t>& anchors_per_level,
                                               const std::vector<ImageSize>& image_sizes,
                                               const PostprocessConfig& config, const BoxCoderWeights& coder) {
  NoGradGuard no_grad;
  MASKDET_CHECK(cls_logits.dim() == 3 && bbox_regression.dim() == 3 && anchors.dim() == 2 &&
                    cls_logits.size(1) == anchors.size(0) && bbox_regression.size(1) == anchors.size(0) &&
                    cls_logits.size(0) == bbox_regression.size(0),
                "postprocess_detections: expected cls_logits (N, A, K), bbox_regression (N, A, 4), anchors (A, 4), got ",
                shape_str(cls_logits.shape()), ", ", shape_str(bbox_regression.shape()), ", ",
                shape_str(anchors.shape()));
  const int64_t num_images = cls_logits.size(0), num_anchors = anchors.size(0), num_classes = cls_logits.size(2);
  MASKDET_CHECK(static_cast<int64_t>(image_sizes.size()) == num_images, "postprocess_detections: ",
                image_sizes.size(), " image sizes for ", num_images, " images");
  int64_t level_total = 0;
  for (int64_t count : anchors_per_level) level_total += count;
  MASKDET_CHECK(level_total == num_anchors, "postprocess_detections: the levels hold ", level_total,
                " anchors, the predictions ", num_anchors);

  const std::vector<float> logits = cls_logits.to_vector<float>();
  const std::vector<float> deltas = bbox_regression.to_vector<float>();
  const std::vector<float> anchor_values = anchors.to_vector<float>();
  std::vector<Detections> out;
  for (int64_t i = 0; i < num_images; ++i) {
    Candidates candidates;
    int64_t first = 0;
    for (int64_t count : anchors_per_level) {
      select_level(logits.data() + (i * num_anchors + first) * num_classes, count, num_classes, first,
                   deltas.data() + i * num_anchors * 4, anchor_values.data(), config, candidates);
      first += count;
    }
    if (candidates.size() == 0) {
      out.push_back(no_detections());
      continue;
    }
    const int64_t n = candidates.size();
    const Tensor boxes = clip_boxes(decode_boxes(from_vector(candidates.anchors, {n, 4}),
                                                 from_vector(candidates.deltas, {n, 4}), coder),
                                    static_cast<double>(image_sizes[i].height), static_cast<double>(image_sizes[i].width));
    const Tensor scores = from_vector(candidates.scores, {n});
    const Tensor labels = from_vector(candidates.labels, {n}, {DType::Int64});
    Tensor keep = config.class_agnostic_nms ? nms(boxes, scores, config.nms_iou_threshold)
                                            : batched_nms(boxes, scores, labels, config.nms_iou_threshold);
    keep = keep.slice(0, 0, std::min(keep.size(0), config.detections_per_image));
    out.push_back({index_select(boxes, 0, keep), index_select(scores, 0, keep), index_select(labels, 0, keep)});
  }
  return out;
}

}  // namespace maskdet
