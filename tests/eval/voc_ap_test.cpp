// PASCAL VOC all-point AP (apps/eval/voc_ap.h) on cases small enough to work out by hand, each
// value derived in a comment: the matching rules of VOCevaldet.m and the area rule of VOCap.m.
// A 10x10 box (0, 0, 10, 10) is called A below; continuous pixels unless said.
#include "apps/eval/voc_ap.h"

#include <gtest/gtest.h>

#include <cmath>

#include "eval/eval_test_helpers.h"

namespace maskdet::eval {
namespace {

using test::detection;
using test::truth;

double voc_ap(const std::vector<ImageAnnotations>& images, PixelConvention pixels = PixelConvention::Continuous) {
  return voc_all_point_ap(match_voc(images, 0, 0.5, pixels)).value();
}

// One image holding only A, and the given detections.
std::vector<ImageAnnotations> box_a_with(std::vector<Detection> detections) {
  return {{{truth(0, 0, 10, 10)}, std::move(detections)}};
}

TEST(VocAp, PerfectDetectionsGiveOne) {
  // Every ground truth found, nothing else: precision 1 up to recall 1, area 1.
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10), truth(20, 20, 40, 50)}, {detection(0, 0, 10, 10, 0.9), detection(20, 20, 40, 50, 0.8)}},
      {{truth(5, 5, 25, 15)}, {detection(5, 5, 25, 15, 0.7)}},
  };
  EXPECT_DOUBLE_EQ(voc_ap(images), 1.0);
  EXPECT_DOUBLE_EQ(voc_ap(images, PixelConvention::Inclusive), 1.0);
}

TEST(VocAp, FalsePositiveAboveTheTruePositiveHalvesIt) {
  // Ranked: FP (0.9), TP (0.8). Recall 0, 1; precision 0, 1/2. With the sentinels,
  // recall [0 0 1 1], precision [0 0 .5 0] -> envelope [.5 .5 .5 0]; recall changes only at
  // the third entry: AP = (1 - 0) * .5 = .5.
  EXPECT_DOUBLE_EQ(voc_ap(box_a_with({detection(50, 50, 60, 60, 0.9), detection(0, 0, 10, 10, 0.8)})), 0.5);
  // Below the true positive, the same false positive costs nothing: precision 1 until recall 1.
  EXPECT_DOUBLE_EQ(voc_ap(box_a_with({detection(50, 50, 60, 60, 0.7), detection(0, 0, 10, 10, 0.8)})), 1.0);
}

TEST(VocAp, MissedGroundTruthCapsRecall) {
  // Two ground truths, one found: recall .5 at precision 1, then the sentinel (1, 0):
  // AP = .5 * 1 + .5 * 0 = .5.
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10), truth(30, 30, 40, 40)}, {detection(0, 0, 10, 10, 0.9)}}};
  EXPECT_DOUBLE_EQ(voc_ap(images), 0.5);
}

TEST(VocAp, DifficultGroundTruthNeitherCountsNorPenalises) {
  // A regular (0..10), B difficult (30..40). Ranked: on B (0.9), stray (0.85), on A (0.8).
  // The detection on B is ignored and B is not a positive (1 positive): the judged ranking is
  // FP, TP -> AP .5 as in the false-positive case. Were B regular, TP FP TP over 2 positives
  // would give .5 * 1 + .5 * 2/3 = .8333; were the detection on B a false positive, FP FP TP
  // would give 1/3.
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10), truth(30, 30, 40, 40, 0, true)},
       {detection(30, 30, 40, 40, 0.9), detection(60, 60, 70, 70, 0.85), detection(0, 0, 10, 10, 0.8)}}};
  const VocClassMatch match = match_voc(images, 0, 0.5, PixelConvention::Continuous);
  EXPECT_EQ(match.num_positives, 1);
  EXPECT_EQ(match.num_difficult, 1);
  ASSERT_EQ(match.ranked.size(), 3u);
  EXPECT_EQ(match.ranked[0].outcome, Outcome::Ignored);
  EXPECT_DOUBLE_EQ(voc_ap(images), 0.5);
  // A difficult object left undetected does not lower recall: one regular, found -> AP 1.
  const std::vector<ImageAnnotations> missed = {
      {{truth(0, 0, 10, 10), truth(30, 30, 40, 40, 0, true)}, {detection(0, 0, 10, 10, 0.8)}}};
  EXPECT_DOUBLE_EQ(voc_ap(missed), 1.0);
}

TEST(VocAp, DuplicateDetectionIsAFalsePositive) {
  // A and B (30..40). Ranked: on A (0.9), on A again (0.8), on B (0.7): TP, FP, TP over 2
  // positives. Recall .5 .5 1, precision 1 .5 2/3 -> envelope 1 2/3 2/3:
  // AP = .5 * 1 + .5 * 2/3 = 5/6.
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10), truth(30, 30, 40, 40)},
       {detection(0, 0, 10, 10, 0.9), detection(0, 0, 10, 10.5, 0.8), detection(30, 30, 40, 40, 0.7)}}};
  EXPECT_NEAR(voc_ap(images), 5.0 / 6.0, 1e-15);
}

TEST(VocAp, BestOverlapAlreadyTakenIsAFalsePositiveEvenWithAFreeNeighbour) {
  // A and B = (4, 0, 14, 10). The second detection (1, 0, 11, 10) overlaps A by 9/11 = .818 and
  // B by 70/130 = .538. The devkit gives it A, its best overlap, already taken by the first
  // detection: a false positive, although B is free and above .5. TP, FP over 2 positives:
  // recall .5 .5, precision 1 .5 -> AP = .5 * 1 = .5. (COCO would match B; coco_ap_test.cpp.)
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10), truth(4, 0, 14, 10)}, {detection(0, 0, 10, 10, 0.9), detection(1, 0, 11, 10, 0.8)}}};
  const VocClassMatch match = match_voc(images, 0, 0.5, PixelConvention::Continuous);
  EXPECT_EQ(match.ranked[1].outcome, Outcome::FalsePositive);
  EXPECT_DOUBLE_EQ(voc_ap(images), 0.5);
  EXPECT_DOUBLE_EQ(voc_ap(images, PixelConvention::Inclusive), 0.5);  // .833 and .571 there
}

TEST(VocAp, NoDetectionsGiveZeroAndNoGroundTruthGivesNothing) {
  // Recall never leaves 0: the only recall change is to the sentinel 1, at precision 0.
  EXPECT_DOUBLE_EQ(voc_ap(box_a_with({})), 0.0);
  // No positives: the devkit divides by zero; the AP is undefined.
  const std::vector<ImageAnnotations> none = {{{}, {detection(0, 0, 10, 10, 0.9)}}};
  EXPECT_FALSE(voc_all_point_ap(match_voc(none, 0, 0.5, PixelConvention::Continuous)).has_value());
  EXPECT_TRUE(precision_recall_curve(match_voc(none, 0, 0.5, PixelConvention::Continuous)).empty());
}

TEST(VocAp, EqualScoresKeepImageThenInputOrder) {
  // Two detections scored .5: a stray one listed first, then the hit. Stable ranking keeps that
  // order: FP, TP -> .5. Listed the other way round: TP, FP -> 1.
  EXPECT_DOUBLE_EQ(voc_ap(box_a_with({detection(50, 50, 60, 60, 0.5), detection(0, 0, 10, 10, 0.5)})), 0.5);
  EXPECT_DOUBLE_EQ(voc_ap(box_a_with({detection(0, 0, 10, 10, 0.5), detection(50, 50, 60, 60, 0.5)})), 1.0);
}

TEST(VocAp, PixelConventionDecidesBorderlineOverlaps) {
  // A and a detection shifted right by 3.4: continuous overlap 6.6 / 13.4 = .4925 (a miss);
  // inclusive (11-pixel sides) 7.6 / 14.4 = .5278 (a hit).
  const Box a{0, 0, 10, 10}, shifted{3.4, 0, 13.4, 10};
  EXPECT_NEAR(voc_iou(a, shifted, PixelConvention::Continuous).value(), 6.6 / 13.4, 1e-15);
  EXPECT_NEAR(voc_iou(a, shifted, PixelConvention::Inclusive).value(), 7.6 * 11 / (2 * 121 - 7.6 * 11), 1e-15);
  EXPECT_DOUBLE_EQ(voc_ap(box_a_with({detection(3.4, 0, 13.4, 10, 0.9)}), PixelConvention::Continuous), 0.0);
  EXPECT_DOUBLE_EQ(voc_ap(box_a_with({detection(3.4, 0, 13.4, 10, 0.9)}), PixelConvention::Inclusive), 1.0);
  // Touching edges: no intersection when continuous, one shared pixel column when inclusive.
  EXPECT_FALSE(voc_iou(a, {10, 0, 20, 10}, PixelConvention::Continuous).has_value());
  EXPECT_NEAR(voc_iou(a, {10, 0, 20, 10}, PixelConvention::Inclusive).value(), 11.0 / (242 - 11), 1e-15);
}

TEST(VocAp, CurveAndCountsFollowTheRanking) {
  // Ranked TP (.9), FP (.6), TP (.4) over 2 positives: points (.5, 1), (.5, .5), (1, 2/3).
  // At score >= .5: 1 TP, 1 FP.
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10), truth(30, 30, 40, 40)},
       {detection(0, 0, 10, 10, 0.9), detection(60, 60, 70, 70, 0.6), detection(30, 30, 40, 40, 0.4)}}};
  const VocClassMatch match = match_voc(images, 0, 0.5, PixelConvention::Continuous);
  const std::vector<PrPoint> curve = precision_recall_curve(match);
  ASSERT_EQ(curve.size(), 3u);
  EXPECT_DOUBLE_EQ(curve[0].recall, 0.5);
  EXPECT_DOUBLE_EQ(curve[0].precision, 1.0);
  EXPECT_DOUBLE_EQ(curve[1].precision, 0.5);
  EXPECT_DOUBLE_EQ(curve[2].recall, 1.0);
  EXPECT_DOUBLE_EQ(curve[2].precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(curve[2].score, 0.4);
  const DetectionCounts counts = counts_at_score(match, 0.5);
  EXPECT_EQ(counts.true_positives, 1);
  EXPECT_EQ(counts.false_positives, 1);
}

}  // namespace
}  // namespace maskdet::eval
