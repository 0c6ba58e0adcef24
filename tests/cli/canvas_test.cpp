// Inference's canvas (inference_canvas, apps/maskdet/detector.h): every image is padded to the
// same square before the model, so a picture's detections do not depend on the pictures batched
// with it. Without the canvas they do, through the padding that GroupNorm's statistics in the
// heads include: the last test shows the canvas is what makes the difference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "apps/data/batch.h"
#include "apps/maskdet/detector.h"
#include "cli/random_retinanet.h"
#include "tensor/creation.h"

namespace maskdet::app {
namespace {

data::PreparedSample picture(int height, int width, size_t index, uint64_t seed) {
  data::PreparedSample s;
  s.size = {height, width};
  s.original_size = s.size;
  s.index = index;
  Generator gen(seed);
  for (int i = 0; i < 3 * height * width; ++i) s.pixels.push_back(static_cast<float>(gen.uniform()) - 0.5f);
  return s;
}

TEST(Canvas, IsTheLongerSidesLimitRoundedUpTo32) {
  data::PipelineOptions quick;
  quick.min_side = 256;
  quick.max_side = 384;
  EXPECT_EQ(inference_canvas(quick), 384);
  quick.max_side = 400;
  EXPECT_EQ(inference_canvas(quick), 416);
  EXPECT_EQ(inference_canvas(quick, 500), 500);  // asked for
  data::PipelineOptions view = quick;
  view.scale = 2.5;  // a small-face view: sized by its scale, the caller passes the first pass's canvas
  EXPECT_EQ(inference_canvas(view), 0);
  EXPECT_THROW(inference_canvas(quick, -1), Error);
}

TEST(Canvas, CollatePadsToItAtLeast) {
  const data::Batch small = data::collate({picture(40, 56, 0, 1)}, 32, 96);
  EXPECT_EQ(small.images.shape(), (Shape{1, 3, 96, 96}));
  EXPECT_EQ(small.image_sizes[0], (data::PixelSize{40, 56}));
  EXPECT_FLOAT_EQ(small.images.data_ptr<float>()[0], picture(40, 56, 0, 1).pixels[0]);
  EXPECT_FLOAT_EQ(small.images.data_ptr<float>()[60], 0.f);  // row 0, column 60: padding
  // A picture larger than the canvas keeps its own size, rounded up to 32.
  EXPECT_EQ(data::collate({picture(100, 40, 0, 1)}, 32, 96).images.shape(), (Shape{1, 3, 128, 96}));
}

TEST(Canvas, APictureScoresTheSameAloneAsInABatch) {
  const auto model_owner = random_retinanet(5, 50, /*head_group_norm=*/true);
  RetinaNet& model = *model_owner;

  const data::PreparedSample landscape = picture(40, 56, 0, 1), portrait = picture(90, 40, 1, 2);
  auto scores_of_landscape = [&](const data::Batch& batch) {
    std::vector<float> scores;
    const std::vector<ImageDetections> found = detect(model, batch, Device::cpu());
    for (const DetectedBox& d : found[0]) scores.push_back(d.score);
    return scores;
  };
  auto expect_near = [](const std::vector<float>& a, const std::vector<float>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5f) << "detection " << i;
  };
  const int canvas = 96;
  expect_near(scores_of_landscape(data::collate({landscape}, 32, canvas)),
              scores_of_landscape(data::collate({landscape, portrait}, 32, canvas)));
  // Without the canvas, alone it is padded to 64x64 and beside the portrait to 96x64.
  const std::vector<float> alone = scores_of_landscape(data::collate({landscape}, 32));
  const std::vector<float> batched = scores_of_landscape(data::collate({landscape, portrait}, 32));
  ASSERT_EQ(alone.size(), batched.size());
  float largest_change = 0;
  for (size_t i = 0; i < alone.size(); ++i) largest_change = std::max(largest_change, std::abs(alone[i] - batched[i]));
  EXPECT_GT(largest_change, 1e-4f) << "the padding changed nothing: this test would not see a missing canvas";
}

}  // namespace
}  // namespace maskdet::app
