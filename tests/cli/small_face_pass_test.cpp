// The small-face pass's choices (apps/maskdet/small_face_pass.h): when an image gets the enlarged
// pass and by how much, and how the two passes' detections merge. The pass at work on a trained
// detector is tests/cli/small_faces_test.cpp.
#include <gtest/gtest.h>

#include "apps/data/resize.h"
#include "apps/maskdet/small_face_pass.h"

namespace maskdet::app {
namespace {

data::PipelineOptions quick_run_size() {
  data::PipelineOptions base;
  base.min_side = 256;
  base.max_side = 384;
  return base;
}

TEST(SmallFacePass, EnlargesWhereTheFirstPassShrinksFacesOutOfReach) {
  TrainSettings settings;  // torchvision's anchors: 32 px at P3
  const SmallFacePass pass = small_face_pass(settings, 16);
  EXPECT_DOUBLE_EQ(pass.resolved_side, 48);
  // A 640x480 photo goes in at 0.533: a 16 px face is 8.5 px, and the first pass resolves faces
  // from 48 / 0.533 = 90 px. Enlarged 3 times a 16 px face is 48 px; that view answers for faces
  // up to 3 times that (16-48 px), the next one, at 1, for 48-90 px. The one after, at 0.33,
  // would not enlarge over the first pass.
  EXPECT_NEAR(data::resize_scale({480, 640}, 256, 384), 0.5333, 1e-4);
  const std::vector<SmallFaceLevel> levels = small_face_levels(pass, quick_run_size(), {480, 640});
  ASSERT_EQ(levels.size(), 2u);
  EXPECT_DOUBLE_EQ(levels[0].scale, 3.0);
  EXPECT_DOUBLE_EQ(levels[0].min_side, 0);
  EXPECT_DOUBLE_EQ(levels[0].max_side, 48);
  EXPECT_DOUBLE_EQ(levels[1].scale, 1.0);
  EXPECT_DOUBLE_EQ(levels[1].min_side, 48);
  EXPECT_DOUBLE_EQ(levels[1].max_side, 90);
  // A 1000x563 photo enlarged 3 times would be 5 Mpx: the enlargement stays under
  // kMaxSmallFacePixels, as in a 12 Mpx photo, and the views together cover every face the
  // first pass resolves poorly, without gaps.
  for (const data::PixelSize size : {data::PixelSize{563, 1000}, data::PixelSize{3000, 4000}}) {
    const std::vector<SmallFaceLevel> views = small_face_levels(pass, quick_run_size(), size);
    ASSERT_FALSE(views.empty());
    const double scale = views[0].scale;
    EXPECT_NEAR(scale * scale * size.width * size.height, kMaxSmallFacePixels, 1) << size.width;
    for (size_t i = 1; i < views.size(); ++i) {
      EXPECT_NEAR(views[i].scale * pass.level_ratio, views[i - 1].scale, 1e-12);
      EXPECT_DOUBLE_EQ(views[i].min_side, views[i - 1].max_side);
    }
    const double base_scale = data::resize_scale(size, 256, 384);
    EXPECT_GT(views.back().scale, 1.25 * base_scale);
    EXPECT_DOUBLE_EQ(views.back().max_side, 48 / base_scale);
  }
  // A 300x200 picture goes in at 1.28: a 40 px face is already 51 px, no second pass.
  EXPECT_TRUE(small_face_levels(small_face_pass(TrainSettings{}, 40), quick_run_size(), {200, 300}).empty());
  // Off.
  EXPECT_TRUE(small_face_levels(small_face_pass(settings, 0), quick_run_size(), {563, 1000}).empty());
  // Smaller anchors reach further on their own.
  settings.anchor_sizes = "16,32,64,128,256";
  EXPECT_DOUBLE_EQ(small_face_pass(settings, 16).resolved_side, 24);
}

TEST(SmallFacePass, EachViewAnswersOnlyForTheFacesItResolves) {
  // The first pass resolves faces poorly under 120 px of the photo; the largest view answers for
  // faces under 40 px, the next for 40-120 px.
  const std::vector<SmallFaceLevel> levels = {{3.0, 0, 40}, {1.2, 40, 120}};
  const ImageDetections base = {{100, 100, 400, 400, 0.9f, 0}, {500, 500, 520, 520, 0.3f, 1}};
  const ImageDetections largest = {
      {501, 501, 521, 521, 0.8f, 1},   // the same small face, scored higher: replaces the first's
      {600, 600, 630, 630, 0.6f, 0},   // a small face the first pass missed
      {110, 110, 390, 390, 0.95f, 0},  // a large face: the first pass answers for those
      {800, 100, 860, 160, 0.97f, 1},  // 60 px: the next view answers for those
      {700, 700, 720, 720, 0.7f, 0},   // class 0 here does not suppress...
      {701, 701, 721, 721, 0.65f, 1},  // ...class 1 at the same place (NMS per class)
      {210, 210, 240, 240, 0.85f, 0},  // inside the large face, scoring less: an eye, not a face
  };
  const ImageDetections next = {
      {805, 105, 865, 165, 0.5f, 0},   // the 60 px face
      {620, 620, 640, 640, 0.99f, 0},  // 20 px: the largest view answers for those
      {300, 800, 345, 845, 0.4f, 1},   // a face mostly inside...
      {290, 790, 350, 850, 0.45f, 0},  // ...another of the same view: only smaller views suppress
  };
  const ImageDetections merged = merge_small_faces(base, {largest, next}, levels);
  std::vector<float> scores;
  for (const DetectedBox& box : merged) scores.push_back(box.score);
  EXPECT_EQ(scores, (std::vector<float>{0.9f, 0.8f, 0.7f, 0.65f, 0.6f, 0.5f, 0.45f, 0.4f}));
  EXPECT_EQ(merge_small_faces(base, {largest, next}, levels, 2).size(), 2u);
}

}  // namespace
}  // namespace maskdet::app
