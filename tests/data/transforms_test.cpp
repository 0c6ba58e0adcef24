// Transforms keep pixels and boxes consistent: the resize rule and bilinear weights against
// hand-computed values, normalisation, flips and crops checked pixel by pixel on an image whose
// pixels encode their coordinates, rotation by 0 as the identity and by 90 degrees as an exact
// permutation, colour factors at their extremes, and the composed random transform.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "apps/data/normalize.h"
#include "apps/data/random_transform.h"
#include "apps/data/resize.h"
#include "apps/data/sample_pipeline.h"
#include "data/data_test_util.h"

namespace maskdet::data {
namespace {

using test::coordinate_image;

Sample sample_of(RgbImage image, std::vector<BoxAnnotation> boxes) {
  Sample s;
  s.original_size = image.size();
  s.image = std::move(image);
  s.boxes = std::move(boxes);
  s.image_path = "test.jpg";
  return s;
}

bool same_pixel(const RgbImage& a, int ay, int ax, const RgbImage& b, int by, int bx) {
  return std::equal(a.at(ay, ax), a.at(ay, ax) + 3, b.at(by, bx));
}

TEST(Resize, MinSideUnlessTheMaxSideWouldPassIt) {
  EXPECT_EQ(resized_size({256, 512}, 512, 2048), (PixelSize{512, 1024}));  // min side rules
  EXPECT_EQ(resized_size({256, 1024}, 1024, 2048), (PixelSize{512, 2048}));  // max side caps
  EXPECT_EQ(resized_size({512, 256}, 512, 2048), (PixelSize{1024, 512}));    // portrait
  EXPECT_EQ(resized_size({3, 7}, 5, 100), (PixelSize{5, 11}));               // 7 * 5/3 = 11.67, floored
  EXPECT_EQ(resized_size({800, 600}, 600, 1000), (PixelSize{800, 600}));     // already there
  EXPECT_EQ(size_within({1000, 500}, 400), (PixelSize{400, 200}));
  EXPECT_EQ(size_within({300, 200}, 400), (PixelSize{300, 200}));
  EXPECT_THROW(resized_size({0, 5}, 800, 1333), Error);
}

TEST(Resize, BilinearWithHalfPixelCentres) {
  RgbImage row(1, 2);
  row.pixels = {0, 0, 0, 255, 255, 255};
  // Upsampling 2 -> 4: sources at -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to the edge).
  const auto up = resize_to_planar(row, {1, 4});
  EXPECT_EQ(std::vector<float>(up.begin(), up.begin() + 4), (std::vector<float>{0, 63.75f, 191.25f, 255}));
  // Downsampling 4 -> 2 averages pairs (sources at 0.5 and 2.5), no antialiasing beyond that.
  RgbImage four(1, 4);
  four.pixels = {0, 0, 0, 100, 100, 100, 200, 200, 200, 40, 40, 40};
  const auto down = resize_to_planar(four, {1, 2});
  EXPECT_FLOAT_EQ(down[0], 50);
  EXPECT_FLOAT_EQ(down[1], 120);
  // Same size: the identity, exactly.
  const RgbImage im = coordinate_image(5, 7);
  EXPECT_EQ(resize_bilinear(im, im.size()), im);
  const auto planar = resize_to_planar(im, im.size());
  EXPECT_EQ(planar[2 * 35 + 3 * 7 + 4], im.at(3, 4)[2]);
}

TEST(Resize, BoxesScaleWithTheImage) {
  std::vector<BoxAnnotation> boxes{{10, 20, 30, 40, 1, true}};
  scale_boxes(boxes, {100, 200}, {50, 400});
  EXPECT_EQ(boxes[0], (BoxAnnotation{20, 10, 60, 20, 1, true}));
}

TEST(Normalize, TorchvisionImageNetConstants) {
  std::vector<float> planar{255, 0, 124, 0, 116, 0};  // 3 planes of 2 values
  normalize_planar(planar);
  EXPECT_NEAR(planar[0], (1 - 0.485) / 0.229, 1e-5);
  EXPECT_NEAR(planar[1], -0.485 / 0.229, 1e-5);
  EXPECT_NEAR(planar[2], (124 / 255.0 - 0.456) / 0.224, 1e-5);
  EXPECT_NEAR(planar[4], (116 / 255.0 - 0.406) / 0.225, 1e-5);
  // The fill colour of the geometric transforms normalises to about zero.
  std::vector<float> mean{kImageNetMeanRgb[0], kImageNetMeanRgb[1], kImageNetMeanRgb[2]};
  normalize_planar(mean);
  for (float v : mean) EXPECT_LT(std::abs(v), 0.02f);
}

TEST(Geometric, HorizontalFlipMirrorsPixelsAndBoxes) {
  const RgbImage original = coordinate_image(20, 100);
  Sample s = sample_of(original, {{10, 5, 30, 15, 0, false}});
  flip_horizontal(s);
  EXPECT_EQ(s.boxes[0], (BoxAnnotation{70, 5, 90, 15, 0, false}));
  for (int y : {0, 7, 19})
    for (int x : {0, 13, 99}) EXPECT_TRUE(same_pixel(s.image, y, x, original, y, 99 - x));
  flip_horizontal(s);
  EXPECT_EQ(s.image, original);
  EXPECT_EQ(s.boxes[0], (BoxAnnotation{10, 5, 30, 15, 0, false}));
}

TEST(Geometric, VerticalFlipMirrorsPixelsAndBoxes) {
  const RgbImage original = coordinate_image(21, 10);
  Sample s = sample_of(original, {{1, 2, 3, 6, 0, false}});
  flip_vertical(s);
  EXPECT_EQ(s.boxes[0], (BoxAnnotation{1, 15, 3, 19, 0, false}));
  EXPECT_TRUE(same_pixel(s.image, 0, 4, original, 20, 4));
  EXPECT_TRUE(same_pixel(s.image, 10, 4, original, 10, 4));
}

TEST(Geometric, CropShiftsClipsAndDropsBoxes) {
  const RgbImage original = coordinate_image(60, 80);
  Sample s = sample_of(original, {
                                     {20, 20, 30, 30, 0, false},  // inside
                                     {5, 10, 25, 20, 1, false},   // cut on the left: clipped
                                     {0, 0, 10.5f, 50, 0, false}, // 0.5 px left: dropped
                                 });
  crop(s, {10, 5, 50, 40}, BoxKeepRule{});
  EXPECT_EQ(s.image.size(), (PixelSize{40, 50}));
  EXPECT_TRUE(same_pixel(s.image, 0, 0, original, 5, 10));
  EXPECT_TRUE(same_pixel(s.image, 39, 49, original, 44, 59));
  ASSERT_EQ(s.boxes.size(), 2u);
  EXPECT_EQ(s.boxes[0], (BoxAnnotation{10, 15, 20, 25, 0, false}));
  EXPECT_EQ(s.boxes[1], (BoxAnnotation{0, 5, 15, 15, 1, false}));
  EXPECT_THROW(crop(s, {0, 0, 51, 10}, BoxKeepRule{}), Error);
}

TEST(Geometric, RandomCropsSpanTheirMinimumFractionToTheWholeSide) {
  const Sample s = sample_of(coordinate_image(90, 120), {});  // no box: the fraction alone decides
  for (const double fraction : {0.3, 0.6, 1.0}) {
    Generator gen(11);
    double smallest = 1, largest = 0;
    for (int trial = 0; trial < 300; ++trial) {
      const PixelRect r = random_crop_rect(s, fraction, gen);
      ASSERT_TRUE(r.x >= 0 && r.y >= 0 && r.x + r.width <= 120 && r.y + r.height <= 90) << fraction;
      for (const double f : {r.width / 120.0, r.height / 90.0}) {
        ASSERT_GE(f, fraction - 0.01) << "trial " << trial;
        smallest = std::min(smallest, f);
        largest = std::max(largest, f);
      }
    }
    EXPECT_LT(smallest, fraction + 0.05) << fraction;  // the draws reach both ends
    EXPECT_GT(largest, 0.95) << fraction;
  }
}

TEST(Geometric, RandomCropsKeepEveryBoxCentreInside) {
  Generator gen(7);
  for (int trial = 0; trial < 200; ++trial) {
    Sample s = sample_of(coordinate_image(90, 120), {{2, 3, 20, 30, 0, false}, {95, 60, 118, 88, 1, false}});
    const PixelRect r = random_crop_rect(s, 0.3, gen);
    ASSERT_TRUE(r.x >= 0 && r.y >= 0 && r.x + r.width <= 120 && r.y + r.height <= 90);
    for (const auto& b : s.boxes) {
      const float cx = (b.x1 + b.x2) / 2, cy = (b.y1 + b.y2) / 2;
      ASSERT_TRUE(cx >= r.x && cx <= r.x + r.width && cy >= r.y && cy <= r.y + r.height) << "trial " << trial;
    }
    crop(s, r, BoxKeepRule{0.f, 0.f});
    ASSERT_EQ(s.boxes.size(), 2u) << "trial " << trial;  // every box keeps a part
    for (const auto& b : s.boxes)
      ASSERT_TRUE(b.x1 >= 0 && b.y1 >= 0 && b.x2 <= s.image.width && b.y2 <= s.image.height && b.x1 < b.x2);
  }
}

TEST(Geometric, RotationByZeroIsTheIdentityAndIntegerShiftsAreExact) {
  const RgbImage original = coordinate_image(30, 40);
  Sample s = sample_of(original, {{3, 4, 20, 25, 0, false}});
  rotate_translate(s, 0, 0, 0, BoxKeepRule{});
  EXPECT_EQ(s.image, original);
  EXPECT_EQ(s.boxes[0], (BoxAnnotation{3, 4, 20, 25, 0, false}));

  rotate_translate(s, 0, 3, -2, BoxKeepRule{});
  EXPECT_TRUE(same_pixel(s.image, 10, 13, original, 12, 10));
  EXPECT_TRUE(std::equal(s.image.at(5, 1), s.image.at(5, 1) + 3, kImageNetMeanRgb));  // uncovered
  EXPECT_TRUE(std::equal(s.image.at(29, 20), s.image.at(29, 20) + 3, kImageNetMeanRgb));
  EXPECT_EQ(s.boxes[0], (BoxAnnotation{6, 2, 23, 23, 0, false}));
}

TEST(Geometric, RotationMovesBoxesToTheEnclosingBoxOfTheirCorners) {
  const RgbImage original = coordinate_image(100, 100);
  Sample s = sample_of(original, {{10, 20, 30, 60, 1, false}});
  rotate_translate(s, 90, 0, 0, BoxKeepRule{});  // counter-clockwise: (x, y) -> (y, 100 - x)
  ASSERT_EQ(s.boxes.size(), 1u);
  EXPECT_NEAR(s.boxes[0].x1, 20, 1e-4);
  EXPECT_NEAR(s.boxes[0].x2, 60, 1e-4);
  EXPECT_NEAR(s.boxes[0].y1, 70, 1e-4);
  EXPECT_NEAR(s.boxes[0].y2, 90, 1e-4);
  for (int y : {0, 31, 99})
    for (int x : {0, 50, 98}) EXPECT_TRUE(same_pixel(s.image, y, x, original, x, 99 - y)) << y << "," << x;

  // A small angle grows a box a little, never shrinks it.
  Sample t = sample_of(coordinate_image(100, 100), {{40, 40, 60, 60, 0, false}});
  rotate_translate(t, 5, 0, 0, BoxKeepRule{});
  EXPECT_LT(t.boxes[0].x1, 40);
  EXPECT_GT(t.boxes[0].x2, 60);
  EXPECT_NEAR(t.boxes[0].x2 - t.boxes[0].x1, 20 * (std::cos(5 * std::numbers::pi / 180) + std::sin(5 * std::numbers::pi / 180)), 1e-3);
}

TEST(Geometric, BoxesPushedOutOfTheImageAreDropped) {
  Sample s = sample_of(coordinate_image(50, 50), {{0, 0, 10, 10, 0, false}, {20, 20, 30, 30, 1, false}});
  rotate_translate(s, 0, -9, 0, BoxKeepRule{});  // the first keeps 1 px of 10
  ASSERT_EQ(s.boxes.size(), 1u);
  EXPECT_EQ(s.boxes[0].class_id, 1);
}

TEST(ColorJitter, ExtremeFactors) {
  const RgbImage original = coordinate_image(8, 9);
  RgbImage im = original;
  adjust_colors(im, {});
  EXPECT_EQ(im, original);
  adjust_colors(im, {0.f, 1.f, 1.f});
  EXPECT_TRUE(std::all_of(im.pixels.begin(), im.pixels.end(), [](uint8_t v) { return v == 0; }));
  im = original;
  adjust_colors(im, {1.f, 1.f, 0.f});  // no saturation: grey
  for (int y = 0; y < 8; ++y) EXPECT_TRUE(im.at(y, 3)[0] == im.at(y, 3)[1] && im.at(y, 3)[1] == im.at(y, 3)[2]);
  im = original;
  adjust_colors(im, {1.f, 0.f, 1.f});  // no contrast: the mean grey everywhere
  EXPECT_TRUE(std::all_of(im.pixels.begin(), im.pixels.end(), [&](uint8_t v) { return v == im.pixels[0]; }));
}

TEST(RandomTransform, DeterministicAndBoxesStayValid) {
  RandomTransformOptions o;
  o.crop_probability = o.rotate_probability = 0.7;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    const Sample input = sample_of(coordinate_image(64, 96), {{5, 5, 40, 50, 0, false}, {60, 10, 90, 60, 1, false}});
    Sample a = input, b = input;
    Generator ga(seed), gb(seed);
    const double scale = apply_random_transform(a, o, ga);
    EXPECT_EQ(scale, apply_random_transform(b, o, gb));
    EXPECT_EQ(a.image, b.image);
    EXPECT_EQ(a.boxes, b.boxes);
    EXPECT_GE(scale, o.scale_jitter_min);
    EXPECT_LE(scale, o.scale_jitter_max);
    EXPECT_FALSE(a.boxes.empty());
    for (const auto& box : a.boxes) {
      EXPECT_TRUE(box.x1 >= 0 && box.y1 >= 0 && box.x2 <= a.image.width && box.y2 <= a.image.height) << seed;
      EXPECT_GE(box.x2 - box.x1, o.keep.min_side);
      EXPECT_GE(box.y2 - box.y1, o.keep.min_side);
    }
  }
}

TEST(RandomTransform, AllOffIsTheIdentity) {
  RandomTransformOptions o;
  o.horizontal_flip_probability = o.crop_probability = o.rotate_probability = 0;
  o.brightness = o.contrast = o.saturation = 0;
  const Sample input = sample_of(coordinate_image(16, 24), {{1, 2, 10, 12, 0, false}});
  Sample s = input;
  Generator gen(3);
  apply_random_transform(s, o, gen);
  EXPECT_EQ(s.image, input.image);
  EXPECT_EQ(s.boxes, input.boxes);
}

TEST(Pipeline, ResizesNormalisesAndRemembersTheOriginalSize) {
  Sample s = sample_of(coordinate_image(50, 100), {{10, 10, 20, 30, 1, false}});
  s.original_size = {100, 200};  // as if a cache had halved it
  PipelineOptions o;
  o.min_side = 100;
  o.max_side = 1000;
  Generator unused(0);
  const PreparedSample p = prepare_sample(s, o, unused);
  EXPECT_EQ(p.size, (PixelSize{100, 200}));
  EXPECT_EQ(p.pixels.size(), 3u * 100 * 200);
  EXPECT_EQ(p.boxes[0], (BoxAnnotation{20, 20, 40, 60, 1, false}));
  EXPECT_EQ(p.original_size, (PixelSize{100, 200}));
  EXPECT_FLOAT_EQ(p.scale_x, 1.f);
  EXPECT_FLOAT_EQ(p.scale_y, 1.f);
  EXPECT_NEAR(p.pixels[0], (s.image.at(0, 0)[0] / 255.0 - 0.485) / 0.229, 1e-5);
}

}  // namespace
}  // namespace maskdet::data

namespace maskdet::data {
namespace {

TEST(ZoomOut, PlacesTheImageOnAMeanColouredCanvasAndMovesItsBoxes) {
  const RgbImage im = test::coordinate_image(4, 6);
  Sample s;
  s.image = im;
  s.original_size = im.size();
  s.boxes = {{1, 1, 3, 4, 0, false}};
  place_on_canvas(s, {10, 12}, 5, 2);
  ASSERT_EQ(s.image.size(), (PixelSize{10, 12}));
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 6; ++x) EXPECT_TRUE(std::equal(im.at(y, x), im.at(y, x) + 3, s.image.at(y + 2, x + 5)));
  EXPECT_TRUE(std::equal(kImageNetMeanRgb, kImageNetMeanRgb + 3, s.image.at(0, 0)));
  EXPECT_TRUE(std::equal(kImageNetMeanRgb, kImageNetMeanRgb + 3, s.image.at(9, 11)));
  EXPECT_FLOAT_EQ(s.boxes[0].x1, 6);
  EXPECT_FLOAT_EQ(s.boxes[0].y2, 6);
  EXPECT_EQ(s.original_size, im.size());  // detections still map back to the file's pixels
  EXPECT_THROW(place_on_canvas(s, {10, 12}, 1, 0), Error);  // the 12-wide image no longer fits at x = 1
}

TEST(ZoomOut, TheRandomTransformShrinksFacesOnlyWhenAsked) {
  RandomTransformOptions o;
  o.horizontal_flip_probability = o.crop_probability = o.rotate_probability = 0;
  o.brightness = o.contrast = o.saturation = 0;
  auto face_width_after = [&](double probability, uint64_t seed) {
    Sample s;
    s.image = test::coordinate_image(40, 40);
    s.boxes = {{10, 10, 30, 30, 0, false}};
    o.zoom_out_probability = probability;
    Generator gen(seed);
    apply_random_transform(s, o, gen);
    return (s.boxes[0].x2 - s.boxes[0].x1) / static_cast<float>(s.image.width);
  };
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    EXPECT_FLOAT_EQ(face_width_after(0, seed), 0.5f);
    const float zoomed = face_width_after(1, seed);
    EXPECT_LE(zoomed, 0.5f);
    EXPECT_GE(zoomed, 0.5f / 3.0f - 0.01f);
  }
}

}  // namespace
}  // namespace maskdet::data
