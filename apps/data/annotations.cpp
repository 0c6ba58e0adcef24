// Summaries of an annotated data set (annotations.h).
#include "apps/data/annotations.h"

namespace maskdet::data {

std::vector<size_t> boxes_per_class(const Dataset& dataset) {
  std::vector<size_t> counts(dataset.classes.size(), 0);
  for (const auto& image : dataset.images)
    for (const auto& box : image.boxes)
      if (box.class_id >= 0 && static_cast<size_t>(box.class_id) < counts.size()) ++counts[box.class_id];
  return counts;
}

}  // namespace maskdet::data
