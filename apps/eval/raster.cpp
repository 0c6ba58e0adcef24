// Rectangles, thick Bresenham lines and Liang-Barsky clipping; see raster.h.
#include "apps/eval/raster.h"

#include <algorithm>
#include <cstdlib>

namespace maskdet::eval {

void fill_rect(RgbImage& image, const PixelRect& rect, Rgb color) {
  for (int y = rect.y; y <= rect.bottom(); ++y)
    for (int x = rect.x; x <= rect.right(); ++x) image.set(x, y, color);
}

void outline_rect(RgbImage& image, const PixelRect& rect, Rgb color) {
  for (int x = rect.x; x <= rect.right(); ++x) {
    image.set(x, rect.y, color);
    image.set(x, rect.bottom(), color);
  }
  for (int y = rect.y; y <= rect.bottom(); ++y) {
    image.set(rect.x, y, color);
    image.set(rect.right(), y, color);
  }
}

void draw_line(RgbImage& image, int x0, int y0, int x1, int y1, Rgb color, int thickness, const PixelRect& clip) {
  const int before = (thickness - 1) / 2;  // brush cells on the top-left side of the path
  auto stamp = [&](int cx, int cy) {
    for (int dy = 0; dy < thickness; ++dy)
      for (int dx = 0; dx < thickness; ++dx) {
        const int x = cx - before + dx, y = cy - before + dy;
        if (clip.contains(x, y)) image.set(x, y, color);
      }
  };
  // Bresenham: step along the major axis, carrying the error of the minor one.
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  const int step_x = x0 < x1 ? 1 : -1, step_y = y0 < y1 ? 1 : -1;
  int error = dx + dy;
  for (;;) {
    stamp(x0, y0);
    if (x0 == x1 && y0 == y1) return;
    const int twice = 2 * error;
    if (twice >= dy) {
      error += dy;
      x0 += step_x;
    }
    if (twice <= dx) {
      error += dx;
      y0 += step_y;
    }
  }
}

bool clip_segment(double& x0, double& y0, double& x1, double& y1, double x_min, double y_min, double x_max,
                  double y_max) {
  // The segment is p(t) = p0 + t (p1 - p0), t in [0, 1]; each edge bounds t from one side.
  const double dx = x1 - x0, dy = y1 - y0;
  double t_enter = 0, t_leave = 1;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {x0 - x_min, x_max - x0, y0 - y_min, y_max - y0};
  for (int edge = 0; edge < 4; ++edge) {
    if (p[edge] == 0) {
      if (q[edge] < 0) return false;  // parallel to this edge and outside it
      continue;
    }
    const double t = q[edge] / p[edge];
    if (p[edge] < 0) {
      t_enter = std::max(t_enter, t);
    } else {
      t_leave = std::min(t_leave, t);
    }
  }
  if (t_enter > t_leave) return false;
  // Clamped: the ends lie on the clip's edges in exact arithmetic, and rounding (with fused
  // multiply-adds under -march=native, -5.6e-16 for an end at 0) must not put them outside.
  const double start_x = x0, start_y = y0;
  x0 = std::clamp(start_x + t_enter * dx, x_min, x_max);
  y0 = std::clamp(start_y + t_enter * dy, y_min, y_max);
  x1 = std::clamp(start_x + t_leave * dx, x_min, x_max);
  y1 = std::clamp(start_y + t_leave * dy, y_min, y_max);
  return true;
}

}  // namespace maskdet::eval
