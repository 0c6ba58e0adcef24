// PASCAL VOC average precision for one class, by the rules of the VOC2010+ devkit
// (VOCevaldet.m and VOCap.m): detections of all images ranked by descending score, each given
// to the ground truth it overlaps most; AP is the area under the precision-recall curve after
// precision is made monotone from the right, summed at every change of recall ("all-point").
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "apps/eval/eval_inputs.h"

namespace maskdet::eval {

// How a box's corners map to an extent. The devkit treats VOC's integer annotations as
// inclusive pixel indices (x1..x2 spans x2 - x1 + 1 pixels); a network regresses continuous
// coordinates, for which the extent is x2 - x1 as in COCO.
enum class PixelConvention { Inclusive, Continuous };

enum class Outcome : uint8_t {
  TruePositive,
  FalsePositive,  // no overlap >= threshold, or the best-overlapping ground truth was already taken
  Ignored,        // best overlap is a difficult ground truth
};

struct RankedDetection {
  double score = 0;
  Outcome outcome = Outcome::FalsePositive;
};

struct VocClassMatch {
  int64_t num_positives = 0;  // ground truth of the class that is not difficult
  int64_t num_difficult = 0;
  std::vector<RankedDetection> ranked;  // every detection of the class, by descending score
};

struct PrPoint {
  double recall = 0, precision = 0;
  double score = 0;  // of the detection whose acceptance gives this point
};

// The devkit's overlap: intersection over union, or nullopt when the boxes do not intersect
// (zero width or height under the convention), which the devkit skips rather than scoring 0.
std::optional<double> voc_iou(const Box& a, const Box& b, PixelConvention convention);

// Ranks and judges the detections of class_id. Equal scores keep image order, then the order
// within an image (MATLAB's sort is stable). Each detection takes the ground truth of its image
// and class with the highest IoU (the first one on ties), matched or not, difficult or not;
// at IoU >= iou_threshold it is a true positive if that ground truth is free, a false positive
// if it was taken, ignored if it is difficult; below, a false positive.
VocClassMatch match_voc(const std::vector<ImageAnnotations>& images, int class_id, double iou_threshold,
                        PixelConvention convention);

// One point per judged detection (ignored ones add no point: they leave both cumulative counts
// unchanged). Empty when there are no positives, since recall is then undefined.
std::vector<PrPoint> precision_recall_curve(const VocClassMatch& match);

// The interpolated precision of each point: the best precision at its recall or beyond, the
// envelope whose area is the all-point AP (VOCap.m's backward max).
std::vector<double> precision_envelope(const std::vector<PrPoint>& curve);

// VOCap.m's all-point AP; nullopt when the class has no positives (the devkit would divide by
// zero). No detections at all give 0.
std::optional<double> voc_all_point_ap(const VocClassMatch& match);

struct DetectionCounts {
  int64_t true_positives = 0, false_positives = 0;
};

// The judged detections scoring at least score_threshold. Greedy matching by descending score
// makes this the prefix of the ranking, so it agrees with the curve.
DetectionCounts counts_at_score(const VocClassMatch& match, double score_threshold);

}  // namespace maskdet::eval
