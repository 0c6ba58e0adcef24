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
  // A 640x480 photo goes in at 0.533: a 16 px face is 8.5 px. Enlarged 3 times it is 48 px.
  EXPECT_NEAR(data::resize_scale({480, 640}, 256, 384), 0.5333, 1e-4);
  EXPECT_DOUBLE_EQ(small_face_scale(pass, quick_run_size(), {480, 640}), 3.0);
  // A 1000x563 photo enlarged 3 times would be 5 Mpx: the enlargement stays under
  // kMaxSmallFacePixels, as in a 12 Mpx photo.
  for (const data::PixelSize size : {data::PixelSize{563, 1000}, data::PixelSize{3000, 4000}}) {
    const double scale = small_face_scale(pass, quick_run_size(), size);
    EXPECT_NEAR(scale * scale * size.width * size.height, kMaxSmallFacePixels, 1) << size.width;
  }
  // A 300x200 picture goes in at 1.28: a 40 px face is already 51 px, no second pass.
  EXPECT_EQ(small_face_scale(small_face_pass(TrainSettings{}, 40), quick_run_size(), {200, 300}), 0);
  // Off.
  EXPECT_EQ(small_face_scale(small_face_pass(settings, 0), quick_run_size(), {563, 1000}), 0);
  // Smaller anchors reach further on their own.
  settings.anchor_sizes = "16,32,64,128,256";
  EXPECT_DOUBLE_EQ(small_face_pass(settings, 16).resolved_side, 24);
}

TEST(SmallFacePass, KeepsTheEnlargedPassOnlyForFacesTheFirstResolvesPoorly) {
  const SmallFacePass pass = small_face_pass(TrainSettings{}, 16);
  // First pass at 0.4: it resolves faces poorly under 48 / 0.4 = 120 px of the photo.
  const ImageDetections base = {{100, 100, 400, 400, 0.9f, 0}, {500, 500, 520, 520, 0.3f, 1}};
  const ImageDetections small = {
      {501, 501, 521, 521, 0.8f, 1},   // the same small face, scored higher: replaces the first's
      {600, 600, 630, 630, 0.6f, 0},   // a small face the first pass missed
      {110, 110, 390, 390, 0.95f, 0},  // a large face: the first pass answers for those
      {700, 700, 720, 720, 0.7f, 0},   // class 0 here does not suppress...
      {701, 701, 721, 721, 0.65f, 1},  // ...class 1 at the same place (NMS per class)
  };
  const ImageDetections merged = merge_small_faces(base, small, pass, 0.4);
  ASSERT_EQ(merged.size(), 5u);
  EXPECT_FLOAT_EQ(merged[0].score, 0.9f);
  EXPECT_FLOAT_EQ(merged[1].score, 0.8f);
  EXPECT_FLOAT_EQ(merged[2].score, 0.7f);
  EXPECT_FLOAT_EQ(merged[3].score, 0.65f);
  EXPECT_FLOAT_EQ(merged[4].score, 0.6f);
  EXPECT_EQ(merge_small_faces(base, small, pass, 0.4, 2).size(), 2u);
}

}  // namespace
}  // namespace maskdet::app
