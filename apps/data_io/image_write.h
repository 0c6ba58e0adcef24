// Writing RgbImage files with OpenCV's imgcodecs, the format chosen by the extension (.jpg,
// .jpeg, .png, .bmp, ...): the synthetic data set's images, and debug pictures of a sample
// with its boxes drawn, to look at what the loader really feeds the model.
#pragma once
#include <string>
#include <vector>

#include "apps/data/annotations.h"
#include "apps/data/rgb_image.h"

namespace maskdet::data {

// Throws maskdet::Error naming the file when it cannot be written.
void write_image(const std::string& path, const RgbImage& image, int jpeg_quality = 95);

// `image` with each box outlined in its class's colour and labelled with the class name.
void write_debug_image(const std::string& path, const RgbImage& image, const std::vector<BoxAnnotation>& boxes,
                       const std::vector<std::string>& classes);

}  // namespace maskdet::data
