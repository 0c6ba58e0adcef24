// What a detection data set says about its images: boxes in pixels (x1, y1, x2, y2, the
// corner convention of Pascal VOC's <bndbox> and keras-retinanet's CSV), a class index into
// the data set's class list, and the VOC "difficult" flag that evaluation may ignore.
#pragma once
#include <string>
#include <vector>

namespace maskdet::data {

struct BoxAnnotation {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  int class_id = -1;
  bool difficult = false;
  bool operator==(const BoxAnnotation&) const = default;
};

struct ImageAnnotation {
  std::string image_path;
  int width = 0;   // 0 when the annotation does not say
  int height = 0;
  std::vector<BoxAnnotation> boxes;
};

struct Dataset {
  std::vector<std::string> classes;  // class_id indexes this
  std::vector<ImageAnnotation> images;
};

// Number of boxes of each class, indexed by class_id.
std::vector<size_t> boxes_per_class(const Dataset& dataset);

}  // namespace maskdet::data
