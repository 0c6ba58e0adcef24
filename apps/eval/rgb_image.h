// An 8-bit RGB raster, rows top to bottom, the pixel layout PNG stores (colour type 2). The
// canvas of the plots: writing outside it is ignored, so shapes clip at the edges for free.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/error.h"

namespace maskdet::eval {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

class RgbImage {
 public:
  RgbImage(int width, int height, Rgb fill = {255, 255, 255}) : width_(width), height_(height) {
    MASKDET_CHECK(width > 0 && height > 0, "RgbImage: size ", width, "x", height, " must be positive");
    pixels_.resize(static_cast<size_t>(width) * height * 3);
    for (size_t i = 0; i < pixels_.size(); i += 3) {
      pixels_[i] = fill.r;
      pixels_[i + 1] = fill.g;
      pixels_[i + 2] = fill.b;
    }
  }

  int width() const { return width_; }
  int height() const { return height_; }
  bool contains(int x, int y) const { return x >= 0 && y >= 0 && x < width_ && y < height_; }

  Rgb at(int x, int y) const {
    MASKDET_CHECK(contains(x, y), "RgbImage: pixel (", x, ", ", y, ") outside ", width_, "x", height_);
    const uint8_t* p = &pixels_[offset(x, y)];
    return {p[0], p[1], p[2]};
  }
  void set(int x, int y, Rgb c) {
    if (!contains(x, y)) return;
    uint8_t* p = &pixels_[offset(x, y)];
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
  }
  // Row y's width * 3 bytes.
  const uint8_t* row(int y) const { return &pixels_[offset(0, y)]; }

 private:
  size_t offset(int x, int y) const { return (static_cast<size_t>(y) * width_ + x) * 3; }

  int width_, height_;
  std::vector<uint8_t> pixels_;
};

}  // namespace maskdet::eval
