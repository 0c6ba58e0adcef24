// Geometric augmentations of a Sample that move its boxes with its pixels: flips, crops and a
// small rotation with translation. Coordinates are continuous, pixel (x, y) covering
// [x, x + 1) x [y, y + 1), so a horizontal flip maps x to W - x exactly. A rotated box
// becomes the box enclosing its four rotated corners (as imgaug and albumentations do for
// axis-aligned boxes), which grows it a little with the angle; that is why only small angles
// are used. Boxes cut by the image border are clipped, and dropped when too little is left.
#pragma once
#include "apps/data/sample.h"
#include "tensor/generator.h"

namespace maskdet::data {

// When a clipped box still counts as an object.
struct BoxKeepRule {
  float min_side = 2.f;               // pixels, both sides after clipping
  float min_visible_fraction = 0.2f;  // of the box's area before clipping
};

struct PixelRect {
  int x = 0, y = 0, width = 0, height = 0;
};

void flip_horizontal(Sample& sample);
void flip_vertical(Sample& sample);

// Keeps `rect` of the image (it must lie inside); boxes are shifted, clipped and filtered.
void crop(Sample& sample, const PixelRect& rect, const BoxKeepRule& keep);

// A crop whose sides are each a random fraction in [min_fraction, 1] of the image's, enlarged
// where needed and placed so that every box's centre stays inside: every box keeps a part.
PixelRect random_crop_rect(const Sample& sample, double min_fraction, Generator& gen);

// "Zoom out" (the expand step of SSD's augmentation, Liu et al. 2016): the image is placed at
// (x, y) on a larger canvas of the ImageNet mean colour, so its objects become smaller relative to
// the frame and, after the resize, in pixels. canvas must hold the image at (x, y).
void place_on_canvas(Sample& sample, PixelSize canvas, int x, int y);

// Rotates the content by `degrees` counter-clockwise as seen, about the image centre, then
// shifts it by (dx, dy) pixels; the image keeps its size, uncovered pixels take the ImageNet
// mean colour (zero after normalisation, like the batch padding). Bilinear sampling.
void rotate_translate(Sample& sample, double degrees, double dx, double dy, const BoxKeepRule& keep);

}  // namespace maskdet::data
