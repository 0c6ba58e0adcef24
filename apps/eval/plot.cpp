// A small line-plot rasteriser drawn with the built-in bitmap font; see plot.h.
#include "apps/eval/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "apps/eval/bitmap_font.h"
#include "tensor/error.h"

namespace maskdet::eval {
namespace {

constexpr Rgb kBlack{0, 0, 0};
constexpr Rgb kFrame{80, 80, 80};
constexpr Rgb kGrid{225, 225, 225};
constexpr Rgb kWhite{255, 255, 255};

// An axis: its range, its ticks and their labels.
struct Axis {
  AxisRange range;
  std::vector<double> ticks;
  std::vector<std::string> labels;
};

// The finite values of one coordinate of every series.
std::optional<AxisRange> data_extent(const LinePlot& plot, bool x) {
  std::optional<AxisRange> extent;
  for (const Series& s : plot.series)
    for (const double v : x ? s.x : s.y) {
      if (!std::isfinite(v)) continue;
      if (!extent) extent = AxisRange{v, v};
      extent->min = std::min(extent->min, v);
      extent->max = std::max(extent->max, v);
    }
  return extent;
}

Axis make_axis(const LinePlot& plot, bool x) {
  const std::optional<AxisRange>& fixed = x ? plot.x_range : plot.y_range;
  Axis axis;
  double step = 0;
  if (fixed) {
    MASKDET_CHECK(fixed->max > fixed->min, "render_plot: the ", x ? "x" : "y", " range [", fixed->min, ", ", fixed->max,
                  "] is empty");
    axis.range = *fixed;
    step = nice_step(axis.range.max - axis.range.min);
  } else {
    AxisRange extent = data_extent(plot, x).value_or(AxisRange{0, 1});
    if (extent.max == extent.min) {  // one value: give it room on both sides
      const double half = extent.min == 0 ? 1 : std::abs(extent.min) * 0.1;
      extent = {extent.min - half, extent.max + half};
    }
    step = nice_step(extent.max - extent.min);
    axis.range = {std::floor(extent.min / step) * step, std::ceil(extent.max / step) * step};
  }
  axis.ticks = ticks_between(axis.range.min, axis.range.max, step);
  // As many decimals as the step needs: 0.05 -> 2, 0.2 -> 1, 5 -> 0.
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  for (const double t : axis.ticks) {
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", decimals, t);
    axis.labels.emplace_back(text);
  }
  return axis;
}

int widest(const std::vector<std::string>& texts, int scale) {
  int width = 0;
  for (const std::string& t : texts) width = std::max(width, text_width(t, scale));
  return width;
}

void draw_legend(const LinePlot& plot, RgbImage& image, const PixelRect& frame, int scale) {
  std::vector<size_t> entries;
  for (size_t i = 0; i < plot.series.size(); ++i)
    if (!plot.series[i].label.empty()) entries.push_back(i);
  if (entries.empty() || plot.legend == LegendCorner::Hidden) return;
  const int pad = 4 * scale, swatch = 12 * scale, row = text_height(scale) + 2 * scale;
  int label_width = 0;
  for (size_t i : entries) label_width = std::max(label_width, text_width(plot.series[i].label, scale));
  PixelRect box{0, 0, pad + swatch + pad + label_width + pad, pad + static_cast<int>(entries.size()) * row};
  const bool left = plot.legend == LegendCorner::TopLeft || plot.legend == LegendCorner::BottomLeft;
  const bool top = plot.legend == LegendCorner::TopLeft || plot.legend == LegendCorner::TopRight;
  box.x = left ? frame.x + 2 * pad : frame.right() - 2 * pad - box.width + 1;
  box.y = top ? frame.y + 2 * pad : frame.bottom() - 2 * pad - box.height + 1;
  fill_rect(image, box, kWhite);
  outline_rect(image, box, kFrame);
  for (size_t e = 0; e < entries.size(); ++e) {
    const Series& s = plot.series[entries[e]];
    const Rgb color = s.color.value_or(kSeriesColors[entries[e] % kSeriesColors.size()]);
    const int text_y = box.y + pad + static_cast<int>(e) * row;
    const int middle = text_y + kGlyphAscent * scale / 2;
    draw_line(image, box.x + pad, middle, box.x + pad + swatch - 1, middle, color, scale, box);
    draw_text(image, box.x + 2 * pad + swatch, text_y, s.label, kBlack, scale);
  }
}

}  // namespace

double nice_step(double span, int max_intervals) {
  MASKDET_CHECK(span > 0 && std::isfinite(span) && max_intervals > 0, "nice_step: span ", span, " and max_intervals ",
                max_intervals, " must be positive");
  const double raw = span / max_intervals;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0})
    if (m * magnitude >= raw * (1 - 1e-9)) return m * magnitude;
  return 10 * magnitude;
}

std::vector<double> ticks_between(double min, double max, double step) {
  // Multiples i * step rather than a running sum, whose rounding errors would pile up.
  std::vector<double> ticks;
  const double first = std::ceil(min / step - 1e-9), last = std::floor(max / step + 1e-9);
  for (double i = first; i <= last; ++i) ticks.push_back(i == 0 ? 0.0 : i * step);
  return ticks;
}

void render_plot(const LinePlot& plot, RgbImage& image, const PixelRect& area) {
  for (const Series& s : plot.series)
    MASKDET_CHECK(s.x.size() == s.y.size(), "render_plot: series '", s.label, "' has ", s.x.size(), " x and ",
                  s.y.size(), " y values");
  const int scale = area.height >= 360 ? 2 : 1;
  const int pad = 6 * scale, tick = 3 * scale, line_height = text_height(scale);
  const Axis x_axis = make_axis(plot, true), y_axis = make_axis(plot, false);
  fill_rect(image, area, kWhite);

  // The frame is what is left once the title, labels and tick labels have their bands.
  const int left =
      area.x + pad + (plot.y_label.empty() ? 0 : line_height + pad) + widest(y_axis.labels, scale) + 2 * scale + tick;
  const int top = area.y + pad + (plot.title.empty() ? pad : line_height + pad);
  const int right = area.right() - std::max(2 * pad, text_width(x_axis.labels.back(), scale) / 2 + pad);
  const int bottom =
      area.bottom() - pad - (plot.x_label.empty() ? 0 : line_height + pad) - line_height - 2 * scale - tick;
  MASKDET_CHECK(right - left > 10 && bottom - top > 10, "render_plot: ", area.width, "x", area.height,
                " pixels leave no room for the plotting area");
  const PixelRect frame{left, top, right - left + 1, bottom - top + 1};
  auto to_x = [&](double v) {
    return frame.x + (v - x_axis.range.min) / (x_axis.range.max - x_axis.range.min) * (frame.width - 1);
  };
  auto to_y = [&](double v) {
    return frame.bottom() - (v - y_axis.range.min) / (y_axis.range.max - y_axis.range.min) * (frame.height - 1);
  };

  for (size_t i = 0; i < x_axis.ticks.size(); ++i) {
    const int px = static_cast<int>(std::lround(to_x(x_axis.ticks[i])));
    draw_line(image, px, frame.y, px, frame.bottom(), kGrid, 1, area);
    draw_line(image, px, frame.bottom(), px, frame.bottom() + tick, kFrame, 1, area);
    const std::string& label = x_axis.labels[i];
    draw_text(image, px - text_width(label, scale) / 2, frame.bottom() + tick + 2 * scale, label, kBlack, scale);
  }
  for (size_t i = 0; i < y_axis.ticks.size(); ++i) {
    const int py = static_cast<int>(std::lround(to_y(y_axis.ticks[i])));
    draw_line(image, frame.x, py, frame.right(), py, kGrid, 1, area);
    draw_line(image, frame.x - tick, py, frame.x, py, kFrame, 1, area);
    const std::string& label = y_axis.labels[i];
    draw_text(image, frame.x - tick - 2 * scale - text_width(label, scale), py - kGlyphAscent * scale / 2, label,
              kBlack, scale);
  }
  outline_rect(image, frame, kFrame);

  for (size_t index = 0; index < plot.series.size(); ++index) {
    const Series& s = plot.series[index];
    const Rgb color = s.color.value_or(kSeriesColors[index % kSeriesColors.size()]);
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      const double px = to_x(s.x[i]), py = to_y(s.y[i]);
      if (s.markers && frame.contains(static_cast<int>(std::lround(px)), static_cast<int>(std::lround(py)))) {
        const int half = 2 * scale;
        fill_rect(image,
                  {static_cast<int>(std::lround(px)) - half, static_cast<int>(std::lround(py)) - half, 2 * half + 1,
                   2 * half + 1},
                  color);
      }
      if (i + 1 == s.x.size() || !std::isfinite(s.x[i + 1]) || !std::isfinite(s.y[i + 1])) continue;
      double x0 = px, y0 = py, x1 = to_x(s.x[i + 1]), y1 = to_y(s.y[i + 1]);
      if (!clip_segment(x0, y0, x1, y1, frame.x, frame.y, frame.right(), frame.bottom())) continue;
      draw_line(image, static_cast<int>(std::lround(x0)), static_cast<int>(std::lround(y0)),
                static_cast<int>(std::lround(x1)), static_cast<int>(std::lround(y1)), color, scale, frame);
    }
  }

  if (!plot.title.empty())
    draw_text(image, frame.x + (frame.width - text_width(plot.title, scale)) / 2, area.y + pad, plot.title, kBlack,
              scale);
  if (!plot.x_label.empty())
    draw_text(image, frame.x + (frame.width - text_width(plot.x_label, scale)) / 2,
              area.bottom() - pad - line_height + 1, plot.x_label, kBlack, scale);
  if (!plot.y_label.empty())
    draw_text_upward(image, area.x + pad, frame.y + (frame.height - text_width(plot.y_label, scale)) / 2, plot.y_label,
                     kBlack, scale);
  draw_legend(plot, image, frame, scale);
}

RgbImage render_plot(const LinePlot& plot, int width, int height) {
  RgbImage image(width, height);
  render_plot(plot, image, whole(image));
  return image;
}

RgbImage render_row(const std::vector<LinePlot>& plots, int panel_width, int panel_height) {
  MASKDET_CHECK(!plots.empty(), "render_row: no plots");
  RgbImage image(panel_width * static_cast<int>(plots.size()), panel_height);
  for (size_t i = 0; i < plots.size(); ++i)
    render_plot(plots[i], image, {static_cast<int>(i) * panel_width, 0, panel_width, panel_height});
  return image;
}

}  // namespace maskdet::eval
