// PASCAL VOC average precision for one class, as the VOC2010+ devkit computes it
// (VOCevaldet.m, VOCap.m); see voc_ap.h.
#include "apps/eval/voc_ap.h"

#include <algorithm>
#include <limits>

namespace maskdet::eval {

std::optional<double> voc_iou(const Box& a, const Box& b, PixelConvention convention) {
  const double one_pixel = convention == PixelConvention::Inclusive ? 1.0 : 0.0;
  const double inter_w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1) + one_pixel;
  const double inter_h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1) + one_pixel;
  if (!(inter_w > 0 && inter_h > 0)) return std::nullopt;
  const double inter = inter_w * inter_h;
  const double area_a = (a.x2 - a.x1 + one_pixel) * (a.y2 - a.y1 + one_pixel);
  const double area_b = (b.x2 - b.x1 + one_pixel) * (b.y2 - b.y1 + one_pixel);
  return inter / (area_a + area_b - inter);
}

VocClassMatch match_voc(const std::vector<ImageAnnotations>& images, int class_id, double iou_threshold,
                        PixelConvention convention) {
  VocClassMatch match;
  struct Candidate {
    size_t image;
    const Detection* detection;
  };
  std::vector<Candidate> candidates;
  std::vector<std::vector<const GroundTruth*>> truths(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    for (const GroundTruth& g : images[i].ground_truth) {
      if (g.class_id != class_id) continue;
      truths[i].push_back(&g);
      ++(g.difficult ? match.num_difficult : match.num_positives);
    }
    for (const Detection& d : images[i].detections)
      if (d.class_id == class_id) candidates.push_back({i, &d});
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.detection->score > b.detection->score; });

  std::vector<std::vector<bool>> taken(images.size());
  for (size_t i = 0; i < images.size(); ++i) taken[i].assign(truths[i].size(), false);
  match.ranked.reserve(candidates.size());
  for (const Candidate& c : candidates) {
    double best_iou = -std::numeric_limits<double>::infinity();
    size_t best = 0;
    for (size_t j = 0; j < truths[c.image].size(); ++j) {
      const std::optional<double> iou = voc_iou(c.detection->box, truths[c.image][j]->box, convention);
      if (iou && *iou > best_iou) {  // strict: the first of equal overlaps wins
        best_iou = *iou;
        best = j;
      }
    }
    Outcome outcome = Outcome::FalsePositive;
    if (best_iou >= iou_threshold) {
      if (truths[c.image][best]->difficult) {
        outcome = Outcome::Ignored;
      } else if (!taken[c.image][best]) {
        outcome = Outcome::TruePositive;
        taken[c.image][best] = true;
      }
    }
    match.ranked.push_back({c.detection->score, outcome});
  }
  return match;
}

std::vector<PrPoint> precision_recall_curve(const VocClassMatch& match) {
  std::vector<PrPoint> curve;
  if (match.num_positives == 0) return curve;
  double true_positives = 0, false_positives = 0;
  for (const RankedDetection& d : match.ranked) {
    if (d.outcome == Outcome::Ignored) continue;
    (d.outcome == Outcome::TruePositive ? true_positives : false_positives) += 1;
    curve.push_back({true_positives / static_cast<double>(match.num_positives),
                     true_positives / (true_positives + false_positives), d.score});
  }
  return curve;
}

std::vector<double> precision_envelope(const std::vector<PrPoint>& curve) {
  std::vector<double> envelope(curve.size());
  double best = 0;
  for (size_t i = curve.size(); i-- > 0;) envelope[i] = best = std::max(best, curve[i].precision);
  return envelope;
}

std::optional<double> voc_all_point_ap(const VocClassMatch& match) {
  if (match.num_positives == 0) return std::nullopt;
  const std::vector<PrPoint> curve = precision_recall_curve(match);
  const std::vector<double> envelope = precision_envelope(curve);
  // VOCap.m's sentinels add a first point at recall 0 and a last at recall 1 with precision 0;
  // the area is summed where recall changes, at the envelope's height there. The last sentinel
  // adds (1 - final recall) * 0.
  double ap = 0, previous_recall = 0;
  for (size_t i = 0; i < curve.size(); ++i) {
    if (curve[i].recall != previous_recall) ap += (curve[i].recall - previous_recall) * envelope[i];
    previous_recall = curve[i].recall;
  }
  return ap;
}

DetectionCounts counts_at_score(const VocClassMatch& match, double score_threshold) {
  DetectionCounts counts;
  for (const RankedDetection& d : match.ranked) {
    if (d.score < score_threshold) break;
    if (d.outcome == Outcome::TruePositive) ++counts.true_positives;
    if (d.outcome == Outcome::FalsePositive) ++counts.false_positives;
  }
  return counts;
}

}  // namespace maskdet::eval
