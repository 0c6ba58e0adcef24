// COCO-style average precision for one class, by the rules of pycocotools' COCOeval for boxes
// (iouType "bbox", area range "all", maxDets 100): per image the top-scoring detections are
// matched greedily to ground truth at each of ten IoU thresholds 0.50:0.05:0.95, then over all
// images precision is read at 101 recall thresholds 0:0.01:1 from the curve made monotone.
#pragma once
#include <array>
#include <optional>
#include <vector>

#include "apps/eval/eval_inputs.h"

namespace maskdet::eval {

inline constexpr int kCocoIouThresholds = 10;
inline constexpr int kCocoRecallThresholds = 101;
inline constexpr int kCocoIouIndex50 = 0;
inline constexpr int kCocoIouIndex75 = 5;

// The thresholds exactly as numpy.linspace produces them in COCOeval's Params (0.9 is
// 0.8999999999999999 there), so that an IoU lying on a threshold is judged the same way.
double coco_iou_threshold(int index);
double coco_recall_threshold(int index);

// COCO's overlap: boxes as (x, y, width, height), right edge x + width, no pixel added;
// 0 when they do not overlap.
double coco_iou(const Box& detection, const Box& ground_truth);

// precision[t][r]: interpolated precision at IoU threshold t and recall threshold r
// (0 where the recall is never reached).
struct CocoPrecision {
  std::array<std::array<double, kCocoRecallThresholds>, kCocoIouThresholds> precision{};

  double average() const;                  // AP@[.5:.95]
  double average_at(int iou_index) const;  // AP at one threshold, e.g. kCocoIouIndex50
};

// COCO has no "difficult" flag; a difficult ground truth here is treated as COCOeval treats a
// ground truth outside the area range: it is matched only when no regular one qualifies, the
// detection matched to it is ignored, and it is not counted. There are no crowd boxes.
// nullopt when the class has no regular ground truth (COCOeval leaves it at -1 and the mean
// skips it).
std::optional<CocoPrecision> coco_precision(const std::vector<ImageAnnotations>& images, int class_id,
                                            int max_detections = 100);

}  // namespace maskdet::eval
