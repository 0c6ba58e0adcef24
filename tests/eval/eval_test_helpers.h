// Shorthands for building evaluation cases in the tests of apps/eval/.
#pragma once
#include <string>
#include <vector>

#include "apps/eval/detection_eval.h"
#include "tensor/error.h"

namespace maskdet::eval::test {

inline GroundTruth truth(double x1, double y1, double x2, double y2, int class_id = 0, bool difficult = false) {
  return {{x1, y1, x2, y2}, class_id, difficult};
}

inline Detection detection(double x1, double y1, double x2, double y2, double score, int class_id = 0) {
  return {{x1, y1, x2, y2}, class_id, score};
}

// The evaluator on the images with the given classes, continuous pixels unless told (hand-worked
// overlaps are simpler without the devkit's + 1).
inline EvalResult evaluate(const std::vector<ImageAnnotations>& images, std::vector<std::string> class_names = {"mask"},
                           PixelConvention pixels = PixelConvention::Continuous, double score_threshold = 0.5) {
  EvalOptions options;
  options.class_names = std::move(class_names);
  options.voc_pixels = pixels;
  options.score_threshold = score_threshold;
  return evaluate_detections(images, options);
}

}  // namespace maskdet::eval::test
