// Brightness, contrast and saturation (color_jitter.h), in float between the steps so only the
// last one rounds. Grey is ITU-R 601 luma, the weights torchvision's rgb_to_grayscale uses.
#include "apps/data/color_jitter.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace maskdet::data {

namespace {
constexpr float kLuma[3] = {0.299f, 0.587f, 0.114f};
float grey(const float* rgb) { return kLuma[0] * rgb[0] + kLuma[1] * rgb[1] + kLuma[2] * rgb[2]; }
float blend(float value, float other, float factor) { return std::clamp(factor * value + (1 - factor) * other, 0.f, 255.f); }
}  // namespace

void adjust_colors(RgbImage& image, const ColorFactors& f) {
  if (image.empty() || (f.brightness == 1.f && f.contrast == 1.f && f.saturation == 1.f)) return;
  std::vector<float> v(image.pixels.begin(), image.pixels.end());
  const size_t pixels = v.size() / 3;
  for (float& x : v) x = blend(x, 0.f, f.brightness);
  double grey_sum = 0;
  for (size_t i = 0; i < pixels; ++i) grey_sum += grey(&v[i * 3]);
  const float mean_grey = static_cast<float>(grey_sum / static_cast<double>(pixels));
  for (float& x : v) x = blend(x, mean_grey, f.contrast);
  for (size_t i = 0; i < pixels; ++i) {
    float* rgb = &v[i * 3];
    const float g = grey(rgb);
    for (int c = 0; c < 3; ++c) rgb[c] = blend(rgb[c], g, f.saturation);
  }
  for (size_t i = 0; i < v.size(); ++i) image.pixels[i] = static_cast<uint8_t>(std::lround(v[i]));
}

}  // namespace maskdet::data
