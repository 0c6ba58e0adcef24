// RgbImage: the decoded picture every data stage after the decoder works on: 8-bit RGB,
// interleaved, row-major (H, W, 3), the layout PIL and torchvision's ToTensor start from.
// Kept free of OpenCV so transforms, batching and the cache build where OpenCV is absent.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/error.h"

namespace maskdet::data {

struct PixelSize {
  int height = 0;
  int width = 0;
  bool operator==(const PixelSize&) const = default;
};

struct RgbImage {
  int height = 0;
  int width = 0;
  std::vector<uint8_t> pixels;  // height * width * 3, R G B per pixel

  RgbImage() = default;
  RgbImage(int h, int w, uint8_t fill = 0) : height(h), width(w), pixels(checked_bytes(h, w), fill) {}

  PixelSize size() const { return {height, width}; }
  bool empty() const { return pixels.empty(); }
  uint8_t* at(int y, int x) { return pixels.data() + (static_cast<size_t>(y) * width + x) * 3; }
  const uint8_t* at(int y, int x) const { return pixels.data() + (static_cast<size_t>(y) * width + x) * 3; }
  bool operator==(const RgbImage&) const = default;

 private:
  static size_t checked_bytes(int h, int w) {
    MASKDET_CHECK(h >= 0 && w >= 0, "RgbImage: negative size ", h, "x", w);
    return static_cast<size_t>(h) * static_cast<size_t>(w) * 3;
  }
};

}  // namespace maskdet::data
