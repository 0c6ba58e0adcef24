// Flips, crops, rotation and translation with their boxes (geometric_transforms.h).
#include "apps/data/geometric_transforms.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "apps/data/normalize.h"
#include "tensor/error.h"

namespace maskdet::data {

namespace {

// Clips each box to the image and keeps it when `keep` allows; `areas_before` are the boxes'
// areas before whatever cut them.
void clip_and_filter(std::vector<BoxAnnotation>& boxes, const std::vector<float>& areas_before, PixelSize size,
                     const BoxKeepRule& keep) {
  std::vector<BoxAnnotation> kept;
  const float width = static_cast<float>(size.width), height = static_cast<float>(size.height);
  for (size_t i = 0; i < boxes.size(); ++i) {
    BoxAnnotation b = boxes[i];
    b.x1 = std::clamp(b.x1, 0.f, width);
    b.x2 = std::clamp(b.x2, 0.f, width);
    b.y1 = std::clamp(b.y1, 0.f, height);
    b.y2 = std::clamp(b.y2, 0.f, height);
    const float w = b.x2 - b.x1, h = b.y2 - b.y1;
    if (w < keep.min_side || h < keep.min_side) continue;
    if (w * h < keep.min_visible_fraction * areas_before[i]) continue;
    kept.push_back(b);
  }
  boxes = std::move(kept);
}

std::vector<float> areas(const std::vector<BoxAnnotation>& boxes) {
  std::vector<float> a;
  for (const auto& b : boxes) a.push_back((b.x2 - b.x1) * (b.y2 - b.y1));
  return a;
}

int uniform_int(Generator& gen, int lo, int hi) {  // [lo, hi]
  if (hi <= lo) return lo;
  return lo + std::min(static_cast<int>(gen.uniform() * (hi - lo + 1)), hi - lo);
}

}  // namespace

void flip_horizontal(Sample& sample) {
  RgbImage& im = sample.image;
  for (int y = 0; y < im.height; ++y)
    for (int x = 0; x < im.width / 2; ++x) std::swap_ranges(im.at(y, x), im.at(y, x) + 3, im.at(y, im.width - 1 - x));
  const float w = static_cast<float>(im.width);
  for (auto& b : sample.boxes) {
    const float x1 = w - b.x2, x2 = w - b.x1;
    b.x1 = x1;
    b.x2 = x2;
  }
}

void flip_vertical(Sample& sample) {
  RgbImage& im = sample.image;
  const size_t row = static_cast<size_t>(im.width) * 3;
  for (int y = 0; y < im.height / 2; ++y) std::swap_ranges(im.at(y, 0), im.at(y, 0) + row, im.at(im.height - 1 - y, 0));
  const float h = static_cast<float>(im.height);
  for (auto& b : sample.boxes) {
    const float y1 = h - b.y2, y2 = h - b.y1;
    b.y1 = y1;
    b.y2 = y2;
  }
}

void crop(Sample& sample, const PixelRect& rect, const BoxKeepRule& keep) {
  const RgbImage& im = sample.image;
  MASKDET_CHECK(rect.x >= 0 && rect.y >= 0 && rect.width > 0 && rect.height > 0 && rect.x + rect.width <= im.width &&
                    rect.y + rect.height <= im.height,
                "crop: rectangle (", rect.x, ", ", rect.y, ") ", rect.width, "x", rect.height, " is not inside the ",
                im.width, "x", im.height, " image of ", sample.image_path);
  RgbImage out(rect.height, rect.width);
  for (int y = 0; y < rect.height; ++y)
    std::copy_n(im.at(rect.y + y, rect.x), static_cast<size_t>(rect.width) * 3, out.at(y, 0));
  const std::vector<float> before = areas(sample.boxes);
  for (auto& b : sample.boxes) {
    b.x1 -= static_cast<float>(rect.x);
    b.x2 -= static_cast<float>(rect.x);
    b.y1 -= static_cast<float>(rect.y);
    b.y2 -= static_cast<float>(rect.y);
  }
  sample.image = std::move(out);
  clip_and_filter(sample.boxes, before, sample.image.size(), keep);
}

void place_on_canvas(Sample& sample, PixelSize canvas, int x, int y) {
  const RgbImage& im = sample.image;
  MASKDET_CHECK(x >= 0 && y >= 0 && x + im.width <= canvas.width && y + im.height <= canvas.height,
                "place_on_canvas: a ", im.width, "x", im.height, " image at (", x, ", ", y, ") does not fit a ",
                canvas.width, "x", canvas.height, " canvas (", sample.image_path, ")");
  RgbImage out(canvas.height, canvas.width);
  for (int py = 0; py < canvas.height; ++py)
    for (int px = 0; px < canvas.width; ++px) std::copy_n(kImageNetMeanRgb, 3, out.at(py, px));
  for (int row = 0; row < im.height; ++row)
    std::copy_n(im.at(row, 0), static_cast<size_t>(im.width) * 3, out.at(y + row, x));
  for (auto& b : sample.boxes) {
    b.x1 += static_cast<float>(x);
    b.x2 += static_cast<float>(x);
    b.y1 += static_cast<float>(y);
    b.y2 += static_cast<float>(y);
  }
  sample.image = std::move(out);
}

PixelRect random_crop_rect(const Sample& sample, double min_fraction, Generator& gen) {
  const int W = sample.image.width, H = sample.image.height;
  const double fw = min_fraction + (1 - min_fraction) * gen.uniform();
  const double fh = min_fraction + (1 - min_fraction) * gen.uniform();
  // The span of box centres the crop must cover, in whole pixels.
  int cx_lo = W, cx_hi = 0, cy_lo = H, cy_hi = 0;
  for (const auto& b : sample.boxes) {
    const float cx = 0.5f * (b.x1 + b.x2), cy = 0.5f * (b.y1 + b.y2);
    cx_lo = std::min(cx_lo, static_cast<int>(std::floor(cx)));
    cx_hi = std::max(cx_hi, static_cast<int>(std::ceil(cx)));
    cy_lo = std::min(cy_lo, static_cast<int>(std::floor(cy)));
    cy_hi = std::max(cy_hi, static_cast<int>(std::ceil(cy)));
  }
  auto place = [&](int side, double fraction, int lo, int hi, int& start, int& length) {
    length = std::clamp(static_cast<int>(std::lround(side * fraction)), 1, side);
    if (lo > hi) {  // no boxes: anywhere
      start = uniform_int(gen, 0, side - length);
      return;
    }
    lo = std::clamp(lo, 0, side);
    hi = std::clamp(hi, 0, side);
    length = std::max(length, hi - lo);
    start = uniform_int(gen, std::max(0, hi - length), std::min(lo, side - length));
  };
  PixelRect rect;
  place(W, fw, cx_lo, cx_hi, rect.x, rect.width);
  place(H, fh, cy_lo, cy_hi, rect.y, rect.height);
  return rect;
}

void rotate_translate(Sample& sample, double degrees, double dx, double dy, const BoxKeepRule& keep) {
  const RgbImage& im = sample.image;
  const int W = im.width, H = im.height;
  const double theta = degrees * std::numbers::pi / 180.0, c = std::cos(theta), s = std::sin(theta);
  const double cx = 0.5 * W, cy = 0.5 * H;
  // Forward map (y points down, so a visual counter-clockwise turn has these signs):
  //   x' = cx + c (x - cx) + s (y - cy) + dx,   y' = cy - s (x - cx) + c (y - cy) + dy.
  // Each output pixel centre is mapped back through the transpose and sampled bilinearly.
  RgbImage out(H, W);
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      const double ox = x + 0.5 - cx - dx, oy = y + 0.5 - cy - dy;
      const double sx = cx + c * ox - s * oy, sy = cy + s * ox + c * oy;
      uint8_t* dst = out.at(y, x);
      if (sx < 0 || sy < 0 || sx > W || sy > H) {
        std::copy_n(kImageNetMeanRgb, 3, dst);
        continue;
      }
      const double fx = sx - 0.5, fy = sy - 0.5;
      const int x0 = static_cast<int>(std::floor(fx)), y0 = static_cast<int>(std::floor(fy));
      const double wx = fx - x0, wy = fy - y0;
      const int xl = std::clamp(x0, 0, W - 1), xr = std::clamp(x0 + 1, 0, W - 1);
      const int yt = std::clamp(y0, 0, H - 1), yb = std::clamp(y0 + 1, 0, H - 1);
      for (int ch = 0; ch < 3; ++ch) {
        const double top = im.at(yt, xl)[ch] + wx * (im.at(yt, xr)[ch] - im.at(yt, xl)[ch]);
        const double bottom = im.at(yb, xl)[ch] + wx * (im.at(yb, xr)[ch] - im.at(yb, xl)[ch]);
        dst[ch] = static_cast<uint8_t>(std::clamp(std::lround(top + wy * (bottom - top)), 0L, 255L));
      }
    }
  }
  std::vector<float> before;
  for (auto& b : sample.boxes) {
    const std::array<double, 4> xs{b.x1, b.x2, b.x1, b.x2}, ys{b.y1, b.y1, b.y2, b.y2};
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    for (int k = 0; k < 4; ++k) {
      const double px = cx + c * (xs[k] - cx) + s * (ys[k] - cy) + dx;
      const double py = cy - s * (xs[k] - cx) + c * (ys[k] - cy) + dy;
      x_lo = std::min(x_lo, px), x_hi = std::max(x_hi, px);
      y_lo = std::min(y_lo, py), y_hi = std::max(y_hi, py);
    }
    b.x1 = static_cast<float>(x_lo);
    b.x2 = static_cast<float>(x_hi);
    b.y1 = static_cast<float>(y_lo);
    b.y2 = static_cast<float>(y_hi);
    before.push_back((b.x2 - b.x1) * (b.y2 - b.y1));
  }
  sample.image = std::move(out);
  clip_and_filter(sample.boxes, before, sample.image.size(), keep);
}

}  // namespace maskdet::data
