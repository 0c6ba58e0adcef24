// Decoding image files into RgbImage with OpenCV's imgcodecs, whatever they hold: grayscale
// becomes three equal channels, an alpha channel is dropped, 16-bit samples are scaled to 8
// bits (x / 257, so 65535 -> 255), and the EXIF orientation tag is applied so the pixels
// stand the way a photo viewer shows them (cv::imread applies it for every flag combination
// except IMREAD_UNCHANGED or IMREAD_IGNORE_ORIENTATION; IMREAD_COLOR | IMREAD_ANYDEPTH keeps
// 16-bit data and still rotates, see the OpenCV imgcodecs documentation of ImreadModes).
// A JPEG cut short is refused as truncated rather than decoded with grey where its end was
// (jpeg_structure.h). Every failure is a maskdet::Error naming the file.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "apps/data/rgb_image.h"

namespace maskdet::data {

RgbImage decode_image_file(const std::string& path);

// Encoded bytes in memory (a JPEG, PNG, ... file's content); `name` is for messages.
RgbImage decode_image_bytes(std::string_view bytes, const std::string& name);

}  // namespace maskdet::data
