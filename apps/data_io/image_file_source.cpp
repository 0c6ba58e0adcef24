// Decoding samples on demand (image_file_source.h).
#include "apps/data_io/image_file_source.h"

#include <algorithm>

#include "apps/data_io/image_decode.h"

namespace maskdet::data {

Sample ImageFileSource::load(size_t index) const {
  MASKDET_CHECK(index < dataset_.images.size(), "ImageFileSource: sample ", index, " of ", dataset_.images.size());
  const ImageAnnotation& annotation = dataset_.images[index];
  Sample s;
  s.image = decode_image_file(annotation.image_path);
  s.original_size = s.image.size();
  s.image_path = annotation.image_path;
  s.index = index;
  const float width = static_cast<float>(s.image.width), height = static_cast<float>(s.image.height);
  for (BoxAnnotation b : annotation.boxes) {
    b.x1 = std::clamp(b.x1, 0.f, width);
    b.x2 = std::clamp(b.x2, 0.f, width);
    b.y1 = std::clamp(b.y1, 0.f, height);
    b.y2 = std::clamp(b.y2, 0.f, height);
    if (b.x2 > b.x1 && b.y2 > b.y1) s.boxes.push_back(b);
  }
  return s;
}

}  // namespace maskdet::data
