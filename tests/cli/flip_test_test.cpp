// detect()'s test-time flip (apps/maskdet/detector.h). Mirroring is exact where the network is
// not: whatever the model predicts, detecting a batch with the flip and detecting its mirror
// image with the flip see the same union of two passes, mirrored, so their detections must be
// each other's mirror images. That fails if a pass mirrors the padding with the picture, or maps
// its boxes back about the wrong width. A small random-weight RetinaNet, every candidate kept.
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "apps/maskdet/detector.h"
#include "cli/random_retinanet.h"
#include "tensor/creation.h"

namespace maskdet::app {
namespace {

// Two pictures of different widths in one batch (the narrow one padded at the right), random
// values in the padding too, so no two anchors score alike.
data::Batch two_pictures(bool mirrored) {
  data::Batch batch;
  Generator gen(7);
  batch.images = rand({2, 3, 64, 96}, TensorOptions{}, &gen);
  batch.image_sizes = {{64, 72}, {48, 96}};  // (height, width) each fills
  batch.original_sizes = batch.image_sizes;
  batch.scales_x = batch.scales_y = {1, 1};
  batch.indices = {0, 1};
  if (mirrored) {
    Tensor copy = batch.images.clone();
    const float* in = batch.images.data_ptr<float>();
    float* out = copy.data_ptr<float>();
    for (int n = 0; n < 2; ++n)
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < batch.image_sizes[n].height; ++y)
          for (int x = 0; x < batch.image_sizes[n].width; ++x)
            out[((n * 3 + c) * 64 + y) * 96 + x] = in[((n * 3 + c) * 64 + y) * 96 + batch.image_sizes[n].width - 1 - x];
    batch.images = copy;
  }
  return batch;
}

std::vector<std::tuple<float, int, float, float, float, float>> sorted(const ImageDetections& found) {
  std::vector<std::tuple<float, int, float, float, float, float>> out;
  for (const auto& d : found) out.emplace_back(-d.score, d.class_id, d.x1, d.y1, d.x2, d.y2);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FlipTest, DetectionsOfTheMirrorImageAreTheMirroredDetections) {
  const auto model_owner = random_retinanet(3, 100);
  RetinaNet& model = *model_owner;

  const std::vector<ImageDetections> plain = detect(model, two_pictures(false), Device::cpu(), false);
  const std::vector<ImageDetections> flipped = detect(model, two_pictures(false), Device::cpu(), true);
  const std::vector<ImageDetections> of_mirror = detect(model, two_pictures(true), Device::cpu(), true);
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE("picture " + std::to_string(i));
    ASSERT_EQ(flipped[i].size(), 100u);
    EXPECT_NE(sorted(flipped[i]), sorted(plain[i])) << "the flip changed nothing";
    const float width = i == 0 ? 72.f : 96.f;
    ImageDetections mirrored_back = of_mirror[i];
    for (auto& d : mirrored_back) {
      const float x1 = d.x1;
      d.x1 = width - d.x2;
      d.x2 = width - x1;
    }
    const auto a = sorted(flipped[i]), b = sorted(mirrored_back);
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      EXPECT_FLOAT_EQ(std::get<0>(a[k]), std::get<0>(b[k])) << "detection " << k;
      EXPECT_EQ(std::get<1>(a[k]), std::get<1>(b[k])) << "detection " << k;
      EXPECT_NEAR(std::get<2>(a[k]), std::get<2>(b[k]), 1e-3) << "detection " << k;
      EXPECT_NEAR(std::get<3>(a[k]), std::get<3>(b[k]), 1e-3) << "detection " << k;
      EXPECT_NEAR(std::get<4>(a[k]), std::get<4>(b[k]), 1e-3) << "detection " << k;
      EXPECT_NEAR(std::get<5>(a[k]), std::get<5>(b[k]), 1e-3) << "detection " << k;
    }
  }
}

}  // namespace
}  // namespace maskdet::app
