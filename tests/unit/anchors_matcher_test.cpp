// Anchors (layout and values) and the anchor matcher (thresholds, low-quality matches, no boxes).
#include "retinanet/anchors.h"
#include "retinanet/matcher.h"
#include "test_util.h"

namespace maskdet {
namespace {

TEST(Anchors, CellAnchorsAreRatioMajorAndRounded) {
  Tensor c = cell_anchors({32, 40.3175}, {0.5, 1.0, 2.0});
  ASSERT_EQ(c.shape(), (Shape{6, 4}));
  // ratio 1, size 32: a centred 32x32 square.
  EXPECT_EQ(c.slice(0, 2, 3).to_vector<double>(), (std::vector<double>{-16, -16, 16, 16}));
  // ratio 0.5 (h/w), size 32: w = 32*sqrt(2) = 45.25, h = 22.63 -> rounded halves.
  EXPECT_EQ(c.slice(0, 0, 1).to_vector<double>(), (std::vector<double>{-23, -11, 23, 11}));
  // ratio 2, size 40.3175: w = 28.51, h = 57.02.
  EXPECT_EQ(c.slice(0, 5, 6).to_vector<double>(), (std::vector<double>{-14, -29, 14, 29}));
}

TEST(Anchors, GridLayoutAndCount) {
  AnchorConfig cfg = AnchorConfig::retinanet();
  const std::vector<FeatureSize> sizes{{16, 20}, {8, 10}, {4, 5}, {2, 3}, {1, 2}};
  Tensor a = generate_anchors(cfg, 128, 160, sizes);
  int64_t expected = 0;
  for (auto s : sizes) expected += s.height * s.width * 9;
  ASSERT_EQ(a.shape(), (Shape{expected, 4}));
  // Second cell of P3 (x = 1): shifted by the stride 160 / 20 = 8 in x only.
  for (int k = 0; k < 4; ++k)
    EXPECT_EQ(a.at({9, k}) - a.at({0, k}), k % 2 == 0 ? 8.0 : 0.0);
  // First cell of the second row: shifted by 128 / 16 = 8 in y.
  EXPECT_EQ(a.at({20 * 9, 1}) - a.at({0, 1}), 8.0);
  EXPECT_THROW(generate_anchors(cfg, 128, 160, {{16, 20}}), Error);
}

Tensor iou_of(const std::vector<double>& v, int64_t m) {
  return from_vector(v, {m, static_cast<int64_t>(v.size()) / m}, {DType::Float64});
}

TEST(Matcher, ThresholdsForegroundIgnoreBackground) {
  // 2 boxes x 5 anchors.
  Tensor iou = iou_of({0.7, 0.45, 0.1, 0.0, 0.3,   //
                       0.2, 0.5, 0.39, 0.0, 0.6},
                      2);
  MatcherConfig cfg;
  cfg.allow_low_quality_matches = false;
  EXPECT_EQ(match_anchors(iou, cfg).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1, kMatchBackground, kMatchBackground, 1}));
  Tensor iou2 = iou_of({0.45, 0.41, 0.39}, 1);
  EXPECT_EQ(match_anchors(iou2, cfg).to_vector<int64_t>(),
            (std::vector<int64_t>{kMatchIgnore, kMatchIgnore, kMatchBackground}));
}

TEST(Matcher, LowQualityMatchesKeepEachBoxsBestAnchors) {
  // Box 1 never reaches 0.5: its best anchors (a tie at 0.3) are kept for it.
  Tensor iou = iou_of({0.8, 0.1, 0.0, 0.0,  //
                       0.0, 0.3, 0.3, 0.1},
                      2);
  EXPECT_EQ(match_anchors(iou).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 1, kMatchBackground}));
}

TEST(Matcher, NoBoxesMeansAllBackground) {
  Tensor iou = zeros({0, 6}, {DType::Float64});
  EXPECT_EQ(match_anchors(iou).to_vector<int64_t>(), std::vector<int64_t>(6, kMatchBackground));
}

}  // namespace
}  // namespace maskdet
