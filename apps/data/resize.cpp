// Bilinear resizing and box scaling (resize.h). The source taps and weights of each output row
// and column are computed once, as PyTorch's upsample_bilinear2d kernel does, so the inner
// loop is four multiply-adds per channel.
#include "apps/data/resize.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"

namespace maskdet::data {

double resize_scale(PixelSize image, double min_side, double max_side) {
  MASKDET_CHECK(image.height > 0 && image.width > 0, "resized_size: empty image ", image.width, "x", image.height);
  MASKDET_CHECK(min_side > 0 && max_side > 0, "resized_size: min_side ", min_side, " and max_side ", max_side,
                " must be positive");
  const double shorter = std::min(image.height, image.width), longer = std::max(image.height, image.width);
  return std::min(min_side / shorter, max_side / longer);
}

PixelSize resized_size(PixelSize image, double min_side, double max_side) {
  const double scale = resize_scale(image, min_side, max_side);
  const int height = static_cast<int>(std::floor(image.height * scale));
  const int width = static_cast<int>(std::floor(image.width * scale));
  return {std::max(height, 1), std::max(width, 1)};
}

PixelSize size_within(PixelSize image, int max_side) {
  const int longer = std::max(image.height, image.width);
  if (longer <= max_side) return image;
  return resized_size(image, max_side, max_side);
}

namespace {

// For each output index along one axis: the two source indices and the second one's weight.
struct Taps {
  std::vector<int> lo, hi;
  std::vector<float> w_hi;
};

Taps bilinear_taps(int in, int out) {
  Taps taps;
  taps.lo.resize(out);
  taps.hi.resize(out);
  taps.w_hi.resize(out);
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int o = 0; o < out; ++o) {
    const float src = std::max(scale * (static_cast<float>(o) + 0.5f) - 0.5f, 0.f);
    const int lo = std::min(static_cast<int>(src), in - 1);
    taps.lo[o] = lo;
    taps.hi[o] = std::min(lo + 1, in - 1);
    taps.w_hi[o] = src - static_cast<float>(lo);
  }
  return taps;
}

}  // namespace

std::vector<float> resize_to_planar(const RgbImage& image, PixelSize out) {
  MASKDET_CHECK(!image.empty() && out.height > 0 && out.width > 0, "resize: cannot resize a ", image.width, "x",
                image.height, " image to ", out.width, "x", out.height);
  const Taps rows = bilinear_taps(image.height, out.height), cols = bilinear_taps(image.width, out.width);
  const size_t plane = static_cast<size_t>(out.height) * out.width;
  std::vector<float> planar(3 * plane);
  for (int y = 0; y < out.height; ++y) {
    const uint8_t* top = image.at(rows.lo[y], 0);
    const uint8_t* bottom = image.at(rows.hi[y], 0);
    const float wy = rows.w_hi[y];
    for (int x = 0; x < out.width; ++x) {
      const int l = cols.lo[x] * 3, r = cols.hi[x] * 3;
      const float wx = cols.w_hi[x];
      for (int c = 0; c < 3; ++c) {
        const float upper = top[l + c] + wx * (top[r + c] - top[l + c]);
        const float lower = bottom[l + c] + wx * (bottom[r + c] - bottom[l + c]);
        planar[c * plane + static_cast<size_t>(y) * out.width + x] = upper + wy * (lower - upper);
      }
    }
  }
  return planar;
}

RgbImage resize_bilinear(const RgbImage& image, PixelSize out) {
  if (image.size() == out) return image;
  const std::vector<float> planar = resize_to_planar(image, out);
  const size_t plane = static_cast<size_t>(out.height) * out.width;
  RgbImage resized(out.height, out.width);
  for (size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c)
      resized.pixels[i * 3 + c] = static_cast<uint8_t>(std::clamp(std::lround(planar[c * plane + i]), 0L, 255L));
  return resized;
}

void scale_boxes(std::vector<BoxAnnotation>& boxes, PixelSize from, PixelSize to) {
  const float sx = static_cast<float>(to.width) / static_cast<float>(from.width);
  const float sy = static_cast<float>(to.height) / static_cast<float>(from.height);
  for (auto& b : boxes) {
    b.x1 *= sx;
    b.x2 *= sx;
    b.y1 *= sy;
    b.y2 *= sy;
  }
}

}  // namespace maskdet::data
