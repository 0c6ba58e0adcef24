// The detection evaluator behind `maskdet evaluate`: from per-image ground truth and detections
// to the usual detection metrics, each class and all together:
//   - AP at IoU 0.5 by the PASCAL VOC2010+ devkit (all-point interpolation; voc_ap.h), and its
//     mean over the classes that have ground truth (mAP@0.5, "map50");
//   - AP@[.5:.95], AP50 and AP75 by pycocotools' COCOeval for boxes (coco_ap.h), its AR@100,
//     and AP and AR of COCO's small, medium and large boxes;
//   - precision and recall of the detections scoring at least a chosen threshold (VOC matching);
//   - the precision-recall curve of each class (VOC matching), for plotting.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/eval/coco_ap.h"
#include "apps/eval/eval_inputs.h"
#include "apps/eval/voc_ap.h"

namespace maskdet::eval {

struct EvalOptions {
  std::vector<std::string> class_names;  // class_id indexes it
  double score_threshold = 0.5;          // for the precision and recall figures only
  double voc_iou_threshold = 0.5;
  PixelConvention voc_pixels = PixelConvention::Inclusive;  // the devkit's
  int coco_max_detections = 100;                            // per image and class
};

// COCO's AP@[.5:.95] and AR@100 of the boxes of one area range (small, medium or large).
struct SizeEval {
  int64_t num_gt = 0;  // regular boxes in the range
  std::optional<double> ap, ar;
};
inline constexpr int kNumSizes = static_cast<int>(std::size(kAreaSizes));  // small, medium, large

// Figures absent (nullopt, null in JSON) are undefined: an AP or recall without ground truth,
// a precision without detections at the threshold.
struct ClassEval {
  std::string name;
  int64_t num_gt = 0;  // not difficult
  int64_t num_difficult = 0;
  int64_t num_det = 0;
  std::optional<double> ap50;       // VOC all-point, at EvalOptions::voc_iou_threshold
  std::optional<double> ap;         // COCO AP@[.5:.95]
  std::optional<double> ap50_coco;  // COCO's 101-point AP at IoU 0.5
  std::optional<double> ap75;       // COCO, IoU 0.75
  std::optional<double> ar;         // COCO AR@100, all sizes
  std::array<SizeEval, kNumSizes> by_size;
  std::optional<double> precision;  // at EvalOptions::score_threshold
  std::optional<double> recall;
  std::vector<PrPoint> pr_curve;  // VOC matching, one point per judged detection
};

struct EvalResult {
  std::vector<ClassEval> per_class;
  // Means over the classes with ground truth.
  std::optional<double> map50, map, map50_coco, map75, mar;
  // AP and AR of each size, as COCOeval's summary: means over the classes with boxes of that
  // size; num_gt sums the classes.
  std::array<SizeEval, kNumSizes> by_size;
  // Every class's detections at the threshold pooled: sum of true positives over the sum of
  // detections, and over the sum of ground truth.
  std::optional<double> precision, recall;
  double score_threshold = 0;
  double voc_iou_threshold = 0;
  PixelConvention voc_pixels = PixelConvention::Inclusive;
  int64_t num_images = 0;
  std::optional<double> seconds_per_image;  // set by the caller that timed the detector

  // Keys: per_class {name: {ap50, ap, ap50_coco, ap75, ar, precision, recall, num_gt,
  // num_difficult, num_det, by_size {small|medium|large: {num_gt, ap, ar}}}}, map50, map,
  // map50_coco, map75, mar, by_size {small|medium|large: {num_gt, ap, ar}}, precision, recall,
  // score_threshold, voc_iou_threshold, voc_pixels, num_images, and seconds_per_image when set.
  // No curves; an undefined figure is null. Indented two spaces, with a final newline: the
  // bytes of results.json.
  std::string to_json() const;
};

// The report's document (keys and order as EvalResult::to_json), for writing it inside another:
// `nlohmann::ordered_json j = result;` (nlohmann's to_json convention).
void to_json(nlohmann::ordered_json& j, const EvalResult& result);

// Throws maskdet::Error on a class id outside class_names, a box with x2 < x1 or y2 < y1, or a
// coordinate or score that is not finite.
EvalResult evaluate_detections(const std::vector<ImageAnnotations>& images, const EvalOptions& options);

}  // namespace maskdet::eval
