// The plotting pieces (apps/eval/plot.h, raster.h, bitmap_font.h, report_plots.h): tick
// steps, clipping, lines, glyphs, and the two published figures, which are also written to the
// test's temporary folder (maskdet_pr_curve.png, maskdet_training_curves.png) for a look.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "apps/eval/bitmap_font.h"
#include "apps/eval/png.h"
#include "apps/eval/report_plots.h"
#include "eval/eval_test_helpers.h"

namespace maskdet::eval {
namespace {

using test::detection;
using test::truth;

int count_pixels(const RgbImage& image, Rgb color) {
  int n = 0;
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) n += image.at(x, y) == color;
  return n;
}

TEST(Ticks, StepsAreOneTwoOrFiveTimesAPowerOfTen) {
  EXPECT_DOUBLE_EQ(nice_step(1.0), 0.2);  // 1/6 = .167 -> .2
  EXPECT_DOUBLE_EQ(nice_step(6.0), 1.0);
  EXPECT_DOUBLE_EQ(nice_step(7.0), 2.0);
  EXPECT_DOUBLE_EQ(nice_step(2000.0), 500.0);
  EXPECT_DOUBLE_EQ(nice_step(0.03), 0.005);
  EXPECT_THROW(nice_step(0.0), Error);
  const std::vector<double> ticks = ticks_between(-0.1, 1.0, 0.2);
  ASSERT_EQ(ticks.size(), 6u);
  EXPECT_EQ(ticks.front(), 0.0);
  EXPECT_DOUBLE_EQ(ticks.back(), 1.0);
}

TEST(Raster, ClipSegmentKeepsThePartInside) {
  double x0 = -10, y0 = 5, x1 = 20, y1 = 5;
  ASSERT_TRUE(clip_segment(x0, y0, x1, y1, 0, 0, 10, 10));
  EXPECT_DOUBLE_EQ(x0, 0);
  EXPECT_DOUBLE_EQ(x1, 10);
  EXPECT_DOUBLE_EQ(y0, 5);
  double a = 2, b = 2, c = 8, d = 8;  // inside: unchanged
  ASSERT_TRUE(clip_segment(a, b, c, d, 0, 0, 10, 10));
  EXPECT_EQ(a, 2);
  EXPECT_EQ(d, 8);
  double p = -5, q = -1, r = 15, s = -1;  // parallel, above the top edge
  EXPECT_FALSE(clip_segment(p, q, r, s, 0, 0, 10, 10));
  double e = -5, f = 20, g = 20, h = 12;  // passes by a corner
  EXPECT_FALSE(clip_segment(e, f, g, h, 0, 0, 10, 10));
}

TEST(Raster, LinesReachBothEndsAndStayInTheClip) {
  RgbImage image(20, 20);
  const Rgb red{255, 0, 0};
  draw_line(image, 2, 3, 15, 9, red, 1, whole(image));
  EXPECT_EQ(image.at(2, 3), red);
  EXPECT_EQ(image.at(15, 9), red);
  EXPECT_EQ(count_pixels(image, red), 14);  // one pixel per column along the major axis
  RgbImage clipped(20, 20);
  draw_line(clipped, 0, 10, 19, 10, red, 3, {5, 0, 5, 20});
  EXPECT_EQ(count_pixels(clipped, red), 15);  // 5 columns x 3 rows
  EXPECT_EQ(clipped.at(4, 10), (Rgb{255, 255, 255}));
}

TEST(BitmapFont, EveryPrintableCharacterHasAGlyph) {
  for (char c = '!'; c <= '~'; ++c) {
    int ink = 0;
    for (int row = 0; row < kGlyphHeight; ++row)
      for (int column = 0; column < kGlyphWidth; ++column) ink += glyph_covers(c, column, row);
    EXPECT_GT(ink, 0) << "'" << c << "'";
  }
  for (int column = 0; column < kGlyphWidth; ++column)
    for (int row = 0; row < kGlyphHeight; ++row) EXPECT_FALSE(glyph_covers(' ', column, row));
  // 'g' hangs below the baseline, 'A' does not; unknown characters show as a box.
  EXPECT_TRUE(glyph_covers('g', 2, 8));
  EXPECT_FALSE(glyph_covers('A', 2, 8));
  EXPECT_TRUE(glyph_covers('\x01', 0, 0));
  EXPECT_FALSE(glyph_covers('\x01', 2, 3));
  EXPECT_EQ(text_width("ab", 2), (2 * kGlyphAdvance - 1) * 2);
  EXPECT_EQ(text_width(""), 0);
}

TEST(BitmapFont, TextStaysInsideItsBox) {
  for (const bool upward : {false, true}) {
    RgbImage image(80, 80);
    const Rgb ink{0, 0, 0};
    const std::string text = "AP@0.5:g";
    const int w = text_width(text, 2), h = text_height(2);
    if (upward) {
      draw_text_upward(image, 10, 5, text, ink, 2);
    } else {
      draw_text(image, 5, 10, text, ink, 2);
    }
    const PixelRect box = upward ? PixelRect{10, 5, h, w} : PixelRect{5, 10, w, h};
    int inside = 0;
    for (int y = 0; y < 80; ++y)
      for (int x = 0; x < 80; ++x)
        if (image.at(x, y) == ink) {
          EXPECT_TRUE(box.contains(x, y)) << (upward ? "upward " : "") << x << ", " << y;
          ++inside;
        }
    EXPECT_GT(inside, 100);
  }
}

TEST(ReportPlots, PrecisionRecallPlotOfAnEvaluation) {
  // mask: TP .9, FP .6, TP .4 over 2 truths (VOC AP 5/6 = .83); noMask: a single hit (AP 1).
  const std::vector<ImageAnnotations> images = {{{truth(0, 0, 10, 10), truth(30, 30, 40, 40), truth(60, 0, 80, 20, 1)},
                                                 {detection(0, 0, 10, 10, 0.9), detection(60, 60, 70, 70, 0.6),
                                                  detection(30, 30, 40, 40, 0.4), detection(60, 0, 80, 20, 0.7, 1)}}};
  const LinePlot plot = precision_recall_plot(test::evaluate(images, {"mask", "noMask"}));
  ASSERT_EQ(plot.series.size(), 2u);
  EXPECT_EQ(plot.title, "PR curve");
  EXPECT_EQ(plot.series[0].label, "mask AP50 0.83");
  EXPECT_EQ(plot.series[1].label, "noMask AP50 1.00");
  // Points (.5, 1), (.5, .5), (1, 2/3) -> envelope 1, 2/3, 2/3, drawn as steps from recall 0.
  EXPECT_EQ(plot.series[0].x, (std::vector<double>{0, 0.5, 0.5, 0.5, 0.5, 1.0}));
  EXPECT_EQ(plot.series[0].y, (std::vector<double>{1, 1, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3}));
  const RgbImage image = render_plot(plot, 640, 480);
  EXPECT_GT(count_pixels(image, kSeriesColors[0]), 100);  // the mask curve and its swatch
  EXPECT_GT(count_pixels(image, kSeriesColors[1]), 10);
  EXPECT_GT(count_pixels(image, Rgb{0, 0, 0}), 500);  // text
  write_png((std::filesystem::path(::testing::TempDir()) / "maskdet_pr_curve.png").string(), image);
}

TEST(ReportPlots, TrainingCurvesFigure) {
  TrainingCurves curves;
  for (int step = 0; step <= 2000; step += 10) {
    curves.step.push_back(step);
    curves.loss.push_back(1.6 * std::exp(-step / 500.0) + 0.3 + 0.05 * std::sin(step / 7.0));
  }
  curves.loss[50] = std::nan("");  // a skipped log entry breaks the line
  for (int epoch = 1; epoch <= 8; ++epoch) {
    curves.epoch.push_back(epoch);
    curves.map50.push_back(0.85 * (1 - std::exp(-epoch / 2.5)));
    curves.map.push_back(0.55 * (1 - std::exp(-epoch / 3.0)));
  }
  const RgbImage image = training_curves_figure(curves);
  EXPECT_EQ(image.width(), 1280);
  EXPECT_EQ(image.height(), 480);
  EXPECT_GT(count_pixels(image, kSeriesColors[0]), 1000);
  EXPECT_GT(count_pixels(image, kSeriesColors[1]), 100);
  write_png((std::filesystem::path(::testing::TempDir()) / "maskdet_training_curves.png").string(), image);
  curves.map.pop_back();
  EXPECT_THROW(training_curves_figure(curves), Error);
}

TEST(Plot, RefusesBadInput) {
  LinePlot plot;
  plot.series.push_back({"s", {0, 1}, {0}, std::nullopt, false});
  EXPECT_THROW(render_plot(plot), Error);  // x and y differ in length
  plot.series[0].y = {0, 1};
  plot.x_range = AxisRange{1, 1};
  EXPECT_THROW(render_plot(plot), Error);  // empty range
  plot.x_range.reset();
  EXPECT_THROW(render_plot(plot, 30, 30), Error);      // no room
  EXPECT_NO_THROW(render_plot(LinePlot{}, 200, 150));  // no data: axes from 0 to 1
}

}  // namespace
}  // namespace maskdet::eval
