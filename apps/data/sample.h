// Sample: one image on its way to a batch, with its boxes in its own pixel coordinates. The
// original size travels with it through every resize, crop and cache so that detections on
// the network's input can be mapped back to the image file.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "apps/data/annotations.h"
#include "apps/data/rgb_image.h"

namespace maskdet::data {

struct Sample {
  RgbImage image;
  std::vector<BoxAnnotation> boxes;
  PixelSize original_size;  // of the image as decoded from its file
  std::string image_path;   // names the sample in messages
  size_t index = 0;         // position in its source
};

}  // namespace maskdet::data
