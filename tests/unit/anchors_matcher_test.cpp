// Anchors (layout and values), the anchor matcher (thresholds, low-quality matches, no boxes) and
// the per-anchor loss targets made from its matches (tensor/kernels/anchor_matching.h).
#include "retinanet/anchors.h"
#include "retinanet/matcher.h"
#include "tensor/kernels/anchor_matching_checks.h"
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

TEST(Matcher, LowQualityMatchGoesToTheAnchorsOwnBestBox) {
  // Anchor 1 is box 1's best (0.3) but overlaps box 0 more (0.4): as torchvision's Matcher, the
  // low-quality rule keeps it and gives it its own best box, 0.
  Tensor iou = iou_of({0.9, 0.4, 0.0,  //
                       0.0, 0.3, 0.1},
                      2);
  EXPECT_EQ(match_anchors(iou).to_vector<int64_t>(), (std::vector<int64_t>{0, 0, kMatchBackground}));
}

TEST(Matcher, FirstBoxWinsTiesAndFloat32Agrees) {
  // Anchor 0 ties between the boxes: box 0 takes it. Anchor 1 (0.45 with box 1) is ignored, and
  // not a low-quality match: box 1's best anchor is anchor 0.
  Tensor iou = iou_of({0.6, 0.2,  //
                       0.6, 0.45},
                      2);
  for (DType dtype : {DType::Float64, DType::Float32})
    EXPECT_EQ(match_anchors(iou.to(dtype)).to_vector<int64_t>(), (std::vector<int64_t>{0, kMatchIgnore}))
        << dtype_name(dtype);
}

// fn throws a maskdet::Error whose message contains `part`.
template <class Fn>
void expect_throws_with(Fn fn, const std::string& part) {
  try {
    fn();
    ADD_FAILURE() << "expected an error mentioning " << part;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

// The value checks both backends raise (the CUDA kernel on the values of the anchor it flags):
// the two match codes and every box index pass, anything else names the anchor; labels pass in
// [0, K).
TEST(AnchorTargets, ValueChecksAcceptMatchCodesAndBoxesOnly) {
  for (int64_t match : {kMatchIgnore, kMatchBackground, int64_t{0}, int64_t{1}})
    EXPECT_NO_THROW(kernels::check_anchor_match(5, match, 2)) << match;
  expect_throws_with([] { kernels::check_anchor_match(5, -3, 2); },
                     "anchor_targets: anchor 5 is matched to box -3 of 2");
  expect_throws_with([] { kernels::check_anchor_match(5, 2, 2); }, "anchor 5 is matched to box 2 of 2");
  expect_throws_with([] { kernels::check_anchor_match(0, 0, 0); }, "anchor 0 is matched to box 0 of 0");
  for (int64_t label : {0, 2}) EXPECT_NO_THROW(kernels::check_box_label(label, 1, 3)) << label;
  expect_throws_with([] { kernels::check_box_label(-1, 1, 3); }, "anchor_targets: label -1 of box 1 is outside [0, 3)");
  expect_throws_with([] { kernels::check_box_label(3, 0, 3); }, "label 3 of box 0 is outside [0, 3)");
}

// The four outputs of kernels::anchor_targets for one image: 4 anchors, 2 boxes, 3 classes.
struct Targets {
  Tensor cls, weights, fg, matched;
};

Targets anchor_targets_of(const std::vector<int64_t>& matches, const std::vector<int64_t>& labels, DType dtype) {
  const int64_t a = static_cast<int64_t>(matches.size()), m = static_cast<int64_t>(labels.size()), k = 3;
  std::vector<double> boxes;
  for (int64_t b = 0; b < m; ++b) boxes.insert(boxes.end(), {100.0 + b, 100.0, 150.0 + b, 160.0});
  std::vector<double> anchors;
  for (int64_t i = 0; i < a; ++i) anchors.insert(anchors.end(), {1.0 * i, 2.0 * i, 10.0 + i, 20.0 + i});
  Targets t{full({a, k}, 7.0, {dtype}), full({a}, 7.0, {dtype}), full({a}, 7.0, {dtype}), full({a, 4}, 7.0, {dtype})};
  kernels::anchor_targets(from_vector(matches, {a}, {DType::Int64}), from_vector(labels, {m}, {DType::Int64}),
                          from_vector(boxes, {m, 4}, {dtype}), from_vector(anchors, {a, 4}, {dtype}), t.cls,
                          t.weights, t.fg, t.matched);
  return t;
}

TEST(AnchorTargets, OneHotWeightsForegroundAndMatchedBoxes) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Targets t = anchor_targets_of({1, kMatchIgnore, kMatchBackground, 0}, {2, 0}, dtype);
    // Anchor 0 has box 1 (label 0), anchor 3 box 0 (label 2).
    EXPECT_EQ(t.cls.to_vector<double>(), (std::vector<double>{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
    EXPECT_EQ(t.weights.to_vector<double>(), (std::vector<double>{1, 0, 1, 1}));
    EXPECT_EQ(t.fg.to_vector<double>(), (std::vector<double>{1, 0, 0, 1}));
    // Foreground rows hold their box; the others their own anchor.
    EXPECT_EQ(t.matched.to_vector<double>(), (std::vector<double>{101, 100, 151, 160, 1, 2, 11, 21,  //
                                                                  2, 4, 12, 22, 100, 100, 150, 160}));
  }
}

TEST(AnchorTargets, NoBoxesAndBadInputs) {
  const Targets none = anchor_targets_of({kMatchBackground, kMatchBackground}, {}, DType::Float32);
  EXPECT_EQ(none.cls.to_vector<double>(), std::vector<double>(6, 0));
  EXPECT_EQ(none.fg.to_vector<double>(), (std::vector<double>{0, 0}));
  EXPECT_EQ(none.weights.to_vector<double>(), (std::vector<double>{1, 1}));
  expect_throws_with([] { anchor_targets_of({0, 1}, {0, 3}, DType::Float32); }, "label 3 of box 1 is outside [0, 3)");
  expect_throws_with([] { anchor_targets_of({0, 2}, {0, 1}, DType::Float32); }, "anchor 1 is matched to box 2 of 2");
  // The first bad anchor in index order, whichever of the two checks it fails.
  expect_throws_with([] { anchor_targets_of({0, 1, 7, 0}, {0, 4}, DType::Float32); },
                     "label 4 of box 1 is outside [0, 3)");
  expect_throws_with(
      [] {
        kernels::match_anchors(zeros({2, 3}), 0.5, 0.4, true, empty({4}, {DType::Int64}));
      },
      "matches has shape (4,), expected (3,)");
}

}  // namespace
}  // namespace maskdet
