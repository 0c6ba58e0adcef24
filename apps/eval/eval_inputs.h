// What the detection evaluator compares: per image, the ground-truth boxes (with the PASCAL VOC
// "difficult" flag) and the detector's scored boxes. Plain values, not tensors, so that the
// metrics can be checked against hand-worked cases and reference implementations directly.
#pragma once
#include <vector>

namespace maskdet::eval {

// Corners in pixels, x2 >= x1 and y2 >= y1.
struct Box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

struct GroundTruth {
  Box box;
  int class_id = 0;  // index into the evaluator's class names
  // VOC's "difficult" objects: not counted as positives, and a detection that lands on one is
  // neither rewarded nor punished.
  bool difficult = false;
};

struct Detection {
  Box box;
  int class_id = 0;
  double score = 0;
};

struct ImageAnnotations {
  std::vector<GroundTruth> ground_truth;
  std::vector<Detection> detections;
};

}  // namespace maskdet::eval
