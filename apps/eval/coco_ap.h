// COCO-style average precision and recall for one class, by the rules of pycocotools' COCOeval
// for boxes (iouType "bbox", maxDets 100, one of its four area ranges): per image the
// top-scoring detections are matched greedily to ground truth at each of ten IoU thresholds
// 0.50:0.05:0.95, then over all images precision is read at 101 recall thresholds 0:0.01:1 from
// the curve made monotone, and recall is the last one reached.
#pragma once
#include <array>
#include <cstdint>
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

// COCO's area ranges in square pixels of box area (width x height), bounds included, as in
// COCOeval's Params: all, small (up to 32^2), medium (32^2 to 96^2), large (96^2 and up). A box
// of exactly 32x32 is both small and medium there, and is so here.
struct AreaRange {
  const char* name;
  double min_area, max_area;
};
inline constexpr AreaRange kAreaAll{"all", 0.0, 1e10};
inline constexpr AreaRange kAreaSmall{"small", 0.0, 32.0 * 32.0};
inline constexpr AreaRange kAreaMedium{"medium", 32.0 * 32.0, 96.0 * 96.0};
inline constexpr AreaRange kAreaLarge{"large", 96.0 * 96.0, 1e10};
inline constexpr AreaRange kAreaSizes[] = {kAreaSmall, kAreaMedium, kAreaLarge};

// COCO's overlap: boxes as (x, y, width, height), right edge x + width, no pixel added;
// 0 when they do not overlap.
double coco_iou(const Box& detection, const Box& ground_truth);

// precision[t][r]: interpolated precision at IoU threshold t and recall threshold r
// (0 where the recall is never reached); recall[t]: the recall all the detections reach at t.
struct CocoPrecision {
  std::array<std::array<double, kCocoRecallThresholds>, kCocoIouThresholds> precision{};
  std::array<double, kCocoIouThresholds> recall{};
  int64_t num_ground_truth = 0;  // regular (not difficult) boxes of the class in the area range

  double average() const;                  // AP@[.5:.95]
  double average_at(int iou_index) const;  // AP at one threshold, e.g. kCocoIouIndex50
  double average_recall() const;           // AR@[.5:.95] (COCO's AR@maxDets)
};

// A ground truth outside the area range is ignored as COCOeval ignores it: matched only when no
// regular one qualifies, the detection matched to it is ignored, and it is not counted; so is a
// detection outside the range that matches nothing. COCO has no "difficult" flag; a difficult
// ground truth is ignored the same way in every range. There are no crowd boxes.
// nullopt when the class has no regular ground truth in the range (COCOeval leaves it at -1 and
// the mean skips it).
std::optional<CocoPrecision> coco_precision(const std::vector<ImageAnnotations>& images, int class_id,
                                            int max_detections = 100, const AreaRange& area = kAreaAll);

}  // namespace maskdet::eval
