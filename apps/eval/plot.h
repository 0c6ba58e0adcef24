// A small line-plot rasteriser: a framed plotting area with ticks, tick labels and grid
// lines, several coloured series (straight segments between points, optional square markers),
// a title, axis labels and a legend, all drawn with the built-in bitmap font. Enough for
// precision-recall curves and training curves without a plotting library.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "apps/eval/raster.h"
#include "apps/eval/rgb_image.h"

namespace maskdet::eval {

struct Series {
  std::string label;  // in the legend; an empty label is left out of it
  std::vector<double> x, y;
  std::optional<Rgb> color;  // kSeriesColors[index of the series] when absent
  bool markers = false;      // a square at each point, for sparse series (one value per epoch)
};

struct AxisRange {
  double min = 0, max = 1;
};

enum class LegendCorner { TopRight, TopLeft, BottomRight, BottomLeft, Hidden };

struct LinePlot {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  // Fixed ranges, or (when absent) the data's extent rounded out to whole tick steps.
  std::optional<AxisRange> x_range, y_range;
  LegendCorner legend = LegendCorner::TopRight;
};

// matplotlib's "tab10" colours, told apart by most readers with colour-vision deficiencies.
inline constexpr std::array<Rgb, 6> kSeriesColors = {Rgb{31, 119, 180}, Rgb{255, 127, 14},  Rgb{44, 160, 44},
                                                     Rgb{214, 39, 40},  Rgb{148, 103, 189}, Rgb{140, 86, 75}};

// The smallest step of 1, 2 or 5 times a power of ten that cuts `span` into at most
// max_intervals pieces; tick labels then need few digits.
double nice_step(double span, int max_intervals = 6);

// The multiples of step lying in [min, max] (give or take rounding), as plotted on an axis.
std::vector<double> ticks_between(double min, double max, double step);

// Draws the plot into `area` of `image` (on white). Points that are not finite break a series.
// Text is drawn at twice the font size when the area is at least 360 pixels tall.
void render_plot(const LinePlot& plot, RgbImage& image, const PixelRect& area);

// A width x height image holding the plot.
RgbImage render_plot(const LinePlot& plot, int width = 640, int height = 480);

// Several plots side by side, each panel_width x panel_height (training loss next to mAP).
RgbImage render_row(const std::vector<LinePlot>& plots, int panel_width = 640, int panel_height = 480);

}  // namespace maskdet::eval
