// COCO-style average precision for one class, following pycocotools' COCOeval (evaluateImg and
// accumulate) for boxes, in one area range; see coco_ap.h.
#include "apps/eval/coco_ap.h"

#include <algorithm>
#include <cfloat>
#include <numeric>

#include "tensor/error.h"

namespace maskdet::eval {
namespace {

// numpy.linspace(start, stop, num): start + i * step with step = (stop - start) / (num - 1),
// the last value set to stop exactly.
double linspace_value(double start, double stop, int num, int index) {
  if (index == num - 1) return stop;
  const double step = (stop - start) / (num - 1);
  const double scaled = index * step;
  return scaled + start;
}

// One image's detections of the class after matching, in the image's score order.
struct ImageMatches {
  std::vector<double> scores;
  // Per IoU threshold and detection: matched to some ground truth, and whether that ground
  // truth is one to ignore.
  std::array<std::vector<bool>, kCocoIouThresholds> matched, ignored;
  int64_t regular_ground_truth = 0;
};

double box_area(const Box& b) { return (b.x2 - b.x1) * (b.y2 - b.y1); }

bool outside(const AreaRange& area, const Box& b) {
  const double a = box_area(b);
  return a < area.min_area || a > area.max_area;
}

ImageMatches match_image(const ImageAnnotations& image, int class_id, int max_detections, const AreaRange& area) {
  struct Truth {
    const GroundTruth* g;
    bool ignore;
  };
  std::vector<Truth> truths;
  for (const GroundTruth& g : image.ground_truth)
    if (g.class_id == class_id) truths.push_back({&g, g.difficult || outside(area, g.box)});
  // Regular ground truth first, so a detection settles on one before looking at ignored ones.
  std::stable_sort(truths.begin(), truths.end(), [](const Truth& a, const Truth& b) { return !a.ignore && b.ignore; });
  std::vector<const Detection*> detections;
  for (const Detection& d : image.detections)
    if (d.class_id == class_id) detections.push_back(&d);
  std::stable_sort(detections.begin(), detections.end(),
                   [](const Detection* a, const Detection* b) { return a->score > b->score; });
  if (detections.size() > static_cast<size_t>(max_detections)) detections.resize(max_detections);

  ImageMatches out;
  for (const Truth& g : truths) out.regular_ground_truth += g.ignore ? 0 : 1;
  for (const Detection* d : detections) out.scores.push_back(d->score);
  std::vector<std::vector<double>> ious(detections.size(), std::vector<double>(truths.size()));
  for (size_t d = 0; d < detections.size(); ++d)
    for (size_t g = 0; g < truths.size(); ++g) ious[d][g] = coco_iou(detections[d]->box, truths[g].g->box);

  for (int t = 0; t < kCocoIouThresholds; ++t) {
    out.matched[t].assign(detections.size(), false);
    out.ignored[t].assign(detections.size(), false);
    std::vector<bool> taken(truths.size(), false);
    for (size_t d = 0; d < detections.size(); ++d) {
      double best_iou = std::min(coco_iou_threshold(t), 1 - 1e-10);
      int best = -1;
      for (size_t g = 0; g < truths.size(); ++g) {
        if (taken[g]) continue;
        // Matched to a regular ground truth already: the ignored ones (sorted last) cannot win.
        if (best > -1 && !truths[best].ignore && truths[g].ignore) break;
        // Only a smaller overlap is passed over: an equal one moves the match to the later
        // ground truth, as in COCOeval (VOC keeps the first).
        if (ious[d][g] < best_iou) continue;
        best_iou = ious[d][g];
        best = static_cast<int>(g);
      }
      if (best == -1) {
        // Unmatched and outside the range: neither a hit nor a false alarm of this range.
        out.ignored[t][d] = outside(area, detections[d]->box);
        continue;
      }
      out.matched[t][d] = true;
      out.ignored[t][d] = truths[best].ignore;
      taken[best] = true;
    }
  }
  return out;
}

}  // namespace

double coco_iou_threshold(int index) {
  MASKDET_CHECK(index >= 0 && index < kCocoIouThresholds, "coco_iou_threshold: index ", index, " out of range");
  return linspace_value(0.5, 0.95, kCocoIouThresholds, index);
}

double coco_recall_threshold(int index) {
  MASKDET_CHECK(index >= 0 && index < kCocoRecallThresholds, "coco_recall_threshold: index ", index, " out of range");
  return linspace_value(0.0, 1.0, kCocoRecallThresholds, index);
}

double coco_iou(const Box& detection, const Box& ground_truth) {
  // The (x, y, w, h) round trip is kept so that the sums round as they do in pycocotools.
  const double dw = detection.x2 - detection.x1, dh = detection.y2 - detection.y1;
  const double gw = ground_truth.x2 - ground_truth.x1, gh = ground_truth.y2 - ground_truth.y1;
  const double w = std::min(dw + detection.x1, gw + ground_truth.x1) - std::max(detection.x1, ground_truth.x1);
  if (w <= 0) return 0;
  const double h = std::min(dh + detection.y1, gh + ground_truth.y1) - std::max(detection.y1, ground_truth.y1);
  if (h <= 0) return 0;
  const double inter = w * h;
  return inter / (dw * dh + gw * gh - inter);
}

double CocoPrecision::average() const {
  double sum = 0;
  for (int t = 0; t < kCocoIouThresholds; ++t) sum += average_at(t);
  return sum / kCocoIouThresholds;
}

double CocoPrecision::average_recall() const {
  return std::accumulate(recall.begin(), recall.end(), 0.0) / kCocoIouThresholds;
}

double CocoPrecision::average_at(int iou_index) const {
  MASKDET_CHECK(iou_index >= 0 && iou_index < kCocoIouThresholds, "CocoPrecision: IoU index ", iou_index,
                " out of range");
  const auto& row = precision[iou_index];
  return std::accumulate(row.begin(), row.end(), 0.0) / kCocoRecallThresholds;
}

std::optional<CocoPrecision> coco_precision(const std::vector<ImageAnnotations>& images, int class_id,
                                            int max_detections, const AreaRange& area) {
  MASKDET_CHECK(max_detections > 0, "coco_precision: max_detections must be positive, got ", max_detections);
  // All images' detections in one list, image after image, then ranked by score; equal scores
  // keep that order (COCOeval's mergesort).
  std::vector<double> scores;
  std::array<std::vector<bool>, kCocoIouThresholds> matched, ignored;
  int64_t regular_ground_truth = 0;
  for (const ImageAnnotations& image : images) {
    ImageMatches m = match_image(image, class_id, max_detections, area);
    regular_ground_truth += m.regular_ground_truth;
    scores.insert(scores.end(), m.scores.begin(), m.scores.end());
    for (int t = 0; t < kCocoIouThresholds; ++t) {
      matched[t].insert(matched[t].end(), m.matched[t].begin(), m.matched[t].end());
      ignored[t].insert(ignored[t].end(), m.ignored[t].begin(), m.ignored[t].end());
    }
  }
  if (regular_ground_truth == 0) return std::nullopt;
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });

  CocoPrecision result;
  result.num_ground_truth = regular_ground_truth;
  for (int t = 0; t < kCocoIouThresholds; ++t) {
    std::vector<double> recall, precision;
    double true_positives = 0, false_positives = 0;
    for (size_t i : order) {
      // An ignored detection still adds a point, repeating the previous counts, as COCOeval's
      // cumulative sums do.
      if (!ignored[t][i]) (matched[t][i] ? true_positives : false_positives) += 1;
      recall.push_back(true_positives / static_cast<double>(regular_ground_truth));
      precision.push_back(true_positives / (false_positives + true_positives + DBL_EPSILON));
    }
    result.recall[t] = recall.empty() ? 0.0 : recall.back();
    for (size_t i = precision.size(); i-- > 1;)
      if (precision[i] > precision[i - 1]) precision[i - 1] = precision[i];
    for (int r = 0; r < kCocoRecallThresholds; ++r) {
      const auto reached = std::lower_bound(recall.begin(), recall.end(), coco_recall_threshold(r));
      if (reached == recall.end()) break;  // the rest stay 0
      result.precision[t][r] = precision[reached - recall.begin()];
    }
  }
  return result;
}

}  // namespace maskdet::eval
