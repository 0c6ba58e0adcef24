// Photometric augmentation: brightness, contrast and saturation factors applied as
// torchvision.transforms.functional's adjust_brightness / adjust_contrast / adjust_saturation
// do (each a blend with black, with the image's mean grey level, or with each pixel's grey,
// clamped to the valid range after each step), in that fixed order. Boxes do not move.
#pragma once
#include "apps/data/rgb_image.h"

namespace maskdet::data {

struct ColorFactors {
  float brightness = 1.f;  // 1 leaves the image as it is
  float contrast = 1.f;
  float saturation = 1.f;
};

void adjust_colors(RgbImage& image, const ColorFactors& factors);

}  // namespace maskdet::data
