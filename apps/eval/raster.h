// The drawing primitives the plots are made of, on an RgbImage: filled and outlined
// rectangles, and straight lines of a given thickness (Bresenham's algorithm with a square
// brush), each confined to a clip rectangle.
#pragma once
#include "apps/eval/rgb_image.h"

namespace maskdet::eval {

struct PixelRect {
  int x = 0, y = 0, width = 0, height = 0;
  int right() const { return x + width - 1; }  // the last column inside
  int bottom() const { return y + height - 1; }
  bool contains(int px, int py) const { return px >= x && py >= y && px <= right() && py <= bottom(); }
};

inline PixelRect whole(const RgbImage& image) { return {0, 0, image.width(), image.height()}; }

void fill_rect(RgbImage& image, const PixelRect& rect, Rgb color);
void outline_rect(RgbImage& image, const PixelRect& rect, Rgb color);

// From (x0, y0) to (x1, y1), pixel centres at integer coordinates; a thickness-sized square
// brush stamped at every step. Only pixels inside `clip` are touched.
void draw_line(RgbImage& image, int x0, int y0, int x1, int y1, Rgb color, int thickness, const PixelRect& clip);

// Cuts the segment to the rectangle [x_min, x_max] x [y_min, y_max] (Liang and Barsky, 1984),
// so that far-off points cost nothing to draw; false when nothing of it is inside.
bool clip_segment(double& x0, double& y0, double& x1, double& y1, double x_min, double y_min, double x_max,
                  double y_max);

}  // namespace maskdet::eval
