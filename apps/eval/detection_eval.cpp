// The detection evaluator: VOC and COCO average precision, thresholded precision and recall,
// precision-recall curves, and the JSON report; see detection_eval.h.
#include "apps/eval/detection_eval.h"

#include <cmath>

#include "apps/eval/coco_ap.h"
#include "tensor/error.h"
#include "tensor/json_text.h"

namespace maskdet::eval {
namespace {

void check_box(const Box& b, size_t image, const char* what) {
  MASKDET_CHECK(std::isfinite(b.x1) && std::isfinite(b.y1) && std::isfinite(b.x2) && std::isfinite(b.y2),
                "evaluate_detections: image ", image, ": a ", what, " box has a coordinate that is not finite");
  MASKDET_CHECK(b.x2 >= b.x1 && b.y2 >= b.y1, "evaluate_detections: image ", image, ": a ", what, " box (", b.x1, ", ",
                b.y1, ", ", b.x2, ", ", b.y2, ") has x2 < x1 or y2 < y1");
}

void check_inputs(const std::vector<ImageAnnotations>& images, const EvalOptions& options) {
  const int num_classes = static_cast<int>(options.class_names.size());
  MASKDET_CHECK(num_classes > 0, "evaluate_detections: no class names");
  for (int a = 0; a < num_classes; ++a)  // they key the JSON report
    for (int b = a + 1; b < num_classes; ++b)
      MASKDET_CHECK(options.class_names[a] != options.class_names[b], "evaluate_detections: class name '",
                    options.class_names[a], "' appears twice");
  auto check_class = [&](int class_id, size_t image) {
    MASKDET_CHECK(class_id >= 0 && class_id < num_classes, "evaluate_detections: image ", image, ": class id ",
                  class_id, " outside [0, ", num_classes, ")");
  };
  for (size_t i = 0; i < images.size(); ++i) {
    for (const GroundTruth& g : images[i].ground_truth) {
      check_class(g.class_id, i);
      check_box(g.box, i, "ground-truth");
    }
    for (const Detection& d : images[i].detections) {
      check_class(d.class_id, i);
      check_box(d.box, i, "detected");
      MASKDET_CHECK(std::isfinite(d.score), "evaluate_detections: image ", i, ": a detection score is not finite");
    }
  }
}

std::optional<double> ratio(int64_t numerator, int64_t denominator) {
  if (denominator == 0) return std::nullopt;
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

// The mean over the classes where the figure is defined.
std::optional<double> mean_over_classes(const std::vector<ClassEval>& classes,
                                        std::optional<double> ClassEval::*figure) {
  double sum = 0;
  int count = 0;
  for (const ClassEval& c : classes) {
    if (!(c.*figure)) continue;
    sum += *(c.*figure);
    ++count;
  }
  if (count == 0) return std::nullopt;
  return sum / count;
}

}  // namespace

EvalResult evaluate_detections(const std::vector<ImageAnnotations>& images, const EvalOptions& options) {
  check_inputs(images, options);
  EvalResult result;
  result.score_threshold = options.score_threshold;
  result.voc_iou_threshold = options.voc_iou_threshold;
  result.voc_pixels = options.voc_pixels;
  result.num_images = static_cast<int64_t>(images.size());
  DetectionCounts pooled;
  int64_t pooled_ground_truth = 0;
  for (int k = 0; k < static_cast<int>(options.class_names.size()); ++k) {
    ClassEval c;
    c.name = options.class_names[k];
    const VocClassMatch voc = match_voc(images, k, options.voc_iou_threshold, options.voc_pixels);
    c.num_gt = voc.num_positives;
    c.num_difficult = voc.num_difficult;
    c.num_det = static_cast<int64_t>(voc.ranked.size());
    c.ap50 = voc_all_point_ap(voc);
    c.pr_curve = precision_recall_curve(voc);
    if (const std::optional<CocoPrecision> coco = coco_precision(images, k, options.coco_max_detections)) {
      c.ap = coco->average();
      c.ap50_coco = coco->average_at(kCocoIouIndex50);
      c.ap75 = coco->average_at(kCocoIouIndex75);
      c.ar = coco->average_recall();
    }
    for (int size = 0; size < kNumSizes; ++size) {
      const std::optional<CocoPrecision> coco =
          coco_precision(images, k, options.coco_max_detections, kAreaSizes[size]);
      if (!coco) continue;
      c.by_size[size] = {coco->num_ground_truth, coco->average(), coco->average_recall()};
    }
    const DetectionCounts counts = counts_at_score(voc, options.score_threshold);
    c.precision = ratio(counts.true_positives, counts.true_positives + counts.false_positives);
    c.recall = ratio(counts.true_positives, c.num_gt);
    pooled.true_positives += counts.true_positives;
    pooled.false_positives += counts.false_positives;
    pooled_ground_truth += c.num_gt;
    result.per_class.push_back(std::move(c));
  }
  result.map50 = mean_over_classes(result.per_class, &ClassEval::ap50);
  result.map = mean_over_classes(result.per_class, &ClassEval::ap);
  result.map50_coco = mean_over_classes(result.per_class, &ClassEval::ap50_coco);
  result.map75 = mean_over_classes(result.per_class, &ClassEval::ap75);
  result.mar = mean_over_classes(result.per_class, &ClassEval::ar);
  for (int size = 0; size < kNumSizes; ++size) {
    SizeEval& mean = result.by_size[size];
    double ap_sum = 0, ar_sum = 0;
    int classes = 0;
    for (const ClassEval& c : result.per_class) {
      const SizeEval& s = c.by_size[size];
      mean.num_gt += s.num_gt;
      if (!s.ap) continue;
      ap_sum += *s.ap;
      ar_sum += *s.ar;
      ++classes;
    }
    if (classes > 0) mean.ap = ap_sum / classes, mean.ar = ar_sum / classes;
  }
  result.precision = ratio(pooled.true_positives, pooled.true_positives + pooled.false_positives);
  result.recall = ratio(pooled.true_positives, pooled_ground_truth);
  return result;
}

namespace {

using Json = nlohmann::ordered_json;

Json figure(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

Json by_size(const std::array<SizeEval, kNumSizes>& sizes) {
  Json out = Json::object();
  for (int size = 0; size < kNumSizes; ++size)
    out[kAreaSizes[size].name] = {{"num_gt", sizes[size].num_gt}, {"ap", figure(sizes[size].ap)}, {"ar", figure(sizes[size].ar)}};
  return out;
}

}  // namespace

void to_json(Json& j, const EvalResult& r) {
  Json per_class = Json::object();
  for (const ClassEval& c : r.per_class)
    per_class[c.name] = {{"ap50", figure(c.ap50)},       {"ap", figure(c.ap)},
                         {"ap50_coco", figure(c.ap50_coco)}, {"ap75", figure(c.ap75)},
                         {"precision", figure(c.precision)}, {"recall", figure(c.recall)},
                         {"num_gt", c.num_gt},               {"num_difficult", c.num_difficult},
                         {"num_det", c.num_det},             {"ar", figure(c.ar)},
                         {"by_size", by_size(c.by_size)}};
  j = {{"per_class", per_class},
       {"map50", figure(r.map50)},
       {"map", figure(r.map)},
       {"map50_coco", figure(r.map50_coco)},
       {"map75", figure(r.map75)},
       {"mar", figure(r.mar)},
       {"by_size", by_size(r.by_size)},
       {"precision", figure(r.precision)},
       {"recall", figure(r.recall)},
       {"score_threshold", r.score_threshold},
       {"voc_iou_threshold", r.voc_iou_threshold},
       {"voc_pixels", r.voc_pixels == PixelConvention::Inclusive ? "inclusive" : "continuous"},
       {"num_images", r.num_images}};
  if (r.seconds_per_image) j["seconds_per_image"] = *r.seconds_per_image;
}

std::string EvalResult::to_json() const { return json::dump(Json(*this), 2) + "\n"; }

}  // namespace maskdet::eval
