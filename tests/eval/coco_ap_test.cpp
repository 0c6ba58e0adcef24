// COCO-style AP (apps/eval/coco_ap.h) on hand-worked cases, following pycocotools' COCOeval:
// ten IoU thresholds .50:.05:.95, precision read at 101 recall thresholds 0:.01:1 (51 of them
// lie at or below recall .5), greedy matching that skips taken ground truth and prefers
// regular ground truth to ignored (here: difficult) ones. A is the box (0, 0, 10, 10).
#include "apps/eval/coco_ap.h"

#include <gtest/gtest.h>

#include "eval/eval_test_helpers.h"

namespace maskdet::eval {
namespace {

using test::detection;
using test::truth;

constexpr double kTight = 1e-12;  // COCOeval's precision carries a 2.2e-16 guard in its denominator

CocoPrecision coco(const std::vector<ImageAnnotations>& images, int max_detections = 100) {
  return coco_precision(images, 0, max_detections).value();
}

TEST(CocoAp, ThresholdsAreNumpyLinspaceValues) {
  // numpy.linspace(.5, .95, 10) has 0.8999999999999999 where one would write 0.9, and
  // numpy.linspace(0, 1, 101) has exactly .5 at index 50.
  EXPECT_EQ(coco_iou_threshold(0), 0.5);
  EXPECT_EQ(coco_iou_threshold(kCocoIouIndex75), 0.75);
  EXPECT_EQ(coco_iou_threshold(8), 0.8999999999999999);
  EXPECT_EQ(coco_iou_threshold(9), 0.95);
  EXPECT_EQ(coco_recall_threshold(50), 0.5);
  EXPECT_EQ(coco_recall_threshold(100), 1.0);
  EXPECT_THROW(coco_iou_threshold(10), Error);
}

TEST(CocoAp, IouUsesWidthWithoutAddedPixel) {
  // A against (5, 0, 15, 10): 50 / 150.
  EXPECT_DOUBLE_EQ(coco_iou({5, 0, 15, 10}, {0, 0, 10, 10}), 1.0 / 3.0);
  EXPECT_EQ(coco_iou({10, 0, 20, 10}, {0, 0, 10, 10}), 0.0);  // touching
}

TEST(CocoAp, PerfectDetectionsGiveOne) {
  // IoU 1 passes every threshold (the cap 1 - 1e-10 keeps .95 reachable): precision 1 at every
  // recall threshold of every IoU threshold.
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10), truth(20, 20, 40, 50)}, {detection(0, 0, 10, 10, 0.9), detection(20, 20, 40, 50, 0.8)}}};
  const CocoPrecision p = coco(images);
  EXPECT_DOUBLE_EQ(p.average(), 1.0);
  EXPECT_DOUBLE_EQ(p.average_at(kCocoIouIndex75), 1.0);
}

TEST(CocoAp, FalsePositiveAboveTheTruePositiveHalvesIt) {
  // Ranked FP, TP: recall 0, 1; precision 0, 1/2 -> monotone .5, .5. Recall threshold 0 reads
  // the first point (recall 0 >= 0), every other one the second: .5 everywhere, AP .5.
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10)}, {detection(50, 50, 60, 60, 0.9), detection(0, 0, 10, 10, 0.8)}}};
  EXPECT_NEAR(coco(images).average(), 0.5, kTight);
}

TEST(CocoAp, MissedGroundTruthReadsFiftyOneOfOneHundredOnePoints) {
  // Two ground truths, one found: recall .5 at precision 1. Thresholds 0, .01, ..., .50 (51 of
  // them) read 1, the 50 above .5 are never reached and read 0: AP = 51/101 at every IoU
  // threshold (VOC's all-point rule gives .5 here).
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10), truth(30, 30, 40, 40)}, {detection(0, 0, 10, 10, 0.9)}}};
  EXPECT_NEAR(coco(images).average(), 51.0 / 101.0, kTight);
}

TEST(CocoAp, TakenGroundTruthIsSkippedForTheNextBest) {
  // A and B = (4, 0, 14, 10); the second detection (1, 0, 11, 10) overlaps A by .818, B by
  // 70/130 = .538. COCOeval skips the taken A and matches B where .538 passes: at IoU .50 only.
  // IoU .50: TP TP -> precision 1 everywhere -> 1.
  // IoU .55 and up (9 thresholds): TP, FP -> recall .5 at most -> 51/101 (as a missed truth).
  // AP = (1 + 9 * 51/101) / 10 = 560/1010; AP50 = 1; AP75 = 51/101.
  // (VOC's devkit counts the second detection a false positive; voc_ap_test.cpp.)
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10), truth(4, 0, 14, 10)}, {detection(0, 0, 10, 10, 0.9), detection(1, 0, 11, 10, 0.8)}}};
  const CocoPrecision p = coco(images);
  EXPECT_NEAR(p.average_at(kCocoIouIndex50), 1.0, kTight);
  EXPECT_NEAR(p.average_at(kCocoIouIndex75), 51.0 / 101.0, kTight);
  EXPECT_NEAR(p.average(), 560.0 / 1010.0, kTight);
}

TEST(CocoAp, DuplicateDetectionIsAFalsePositive) {
  // A and B = (30, 30, 40, 40). Ranked: A, A again, B: TP, FP, TP over 2. Recall .5 .5 1,
  // precision 1 .5 2/3 -> monotone 1 2/3 2/3. Thresholds up to .5 read the first point (1), the
  // 50 above read the third (2/3): AP = (51 + 50 * 2/3) / 101 = 253/303 at every IoU threshold
  // (the duplicate's IoU is .952; what counts is that A is taken).
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10), truth(30, 30, 40, 40)},
       {detection(0, 0, 10, 10, 0.9), detection(0, 0, 10, 10.5, 0.8), detection(30, 30, 40, 40, 0.7)}}};
  EXPECT_NEAR(coco(images).average(), 253.0 / 303.0, kTight);
}

TEST(CocoAp, RegularGroundTruthIsPreferredToADifficultOne) {
  // D difficult = A; R regular = (0, 0, 10, 6); the detection (0, 0, 10, 9) overlaps D by .9
  // and R by 60/90 = .667. Regular truth comes first and, once matched, ends the search:
  //   IoU .50-.65 (4 thresholds): matched to R, a TP -> 1;
  //   IoU .70-.90 (5): R fails, D passes: matched to an ignored truth, the detection is
  //   ignored; nothing judged, precision 0 at every recall threshold -> 0;
  //   IoU .95: unmatched, a FP -> 0.
  // AP = 4/10; AP50 = 1; AP75 = 0.
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10, 0, true), truth(0, 0, 10, 6)}, {detection(0, 0, 10, 9, 0.9)}}};
  const CocoPrecision p = coco(images);
  EXPECT_NEAR(p.average(), 0.4, kTight);
  EXPECT_NEAR(p.average_at(kCocoIouIndex50), 1.0, kTight);
  EXPECT_EQ(p.average_at(kCocoIouIndex75), 0.0);
  // Only difficult truth: nothing to find, the class is left out (COCOeval's -1).
  EXPECT_FALSE(coco_precision({{{truth(0, 0, 10, 10, 0, true)}, {detection(0, 0, 10, 10, 0.9)}}}, 0).has_value());
}

TEST(CocoAp, OverlapExactlyAtTheThresholdMatches) {
  // (0, 0, 20, 10) against A: 100/200 = .5 exactly, which passes ">= .5" and nothing higher:
  // AP50 = 1, AP = 1/10.
  const std::vector<ImageAnnotations> images = {{{truth(0, 0, 10, 10)}, {detection(0, 0, 20, 10, 0.9)}}};
  const CocoPrecision p = coco(images);
  EXPECT_DOUBLE_EQ(p.average_at(kCocoIouIndex50), 1.0);
  EXPECT_DOUBLE_EQ(p.average(), 0.1);
}

TEST(CocoAp, OnlyTheBestHundredDetectionsOfAnImageCount) {
  // 100 strays at .9 and the hit at .5: the hit is 101st and dropped, so nothing is found:
  // AP 0. Keeping 101 per image: 100 FPs then the TP, precision 1/101 at recall 1 -> 1/101.
  ImageAnnotations image{{truth(0, 0, 10, 10)}, {}};
  for (int i = 0; i < 100; ++i) image.detections.push_back(detection(100 + i, 100, 110 + i, 110, 0.9));
  image.detections.push_back(detection(0, 0, 10, 10, 0.5));
  EXPECT_EQ(coco({image}).average(), 0.0);
  EXPECT_NEAR(coco({image}, 101).average(), 1.0 / 101.0, kTight);
}

TEST(CocoAp, NoDetectionsGiveZero) {
  const std::vector<ImageAnnotations> images = {{{truth(0, 0, 10, 10)}, {}}, {{}, {}}};
  EXPECT_EQ(coco(images).average(), 0.0);
}

TEST(CocoAp, EqualScoresKeepImageOrderAcrossImages) {
  // Image 1 holds a stray, image 2 the hit, both scored .5: ranked stray first -> AP .5 (as FP
  // above TP); with the images swapped, TP first -> 1.
  const ImageAnnotations stray{{}, {detection(50, 50, 60, 60, 0.5)}};
  const ImageAnnotations hit{{truth(0, 0, 10, 10)}, {detection(0, 0, 10, 10, 0.5)}};
  EXPECT_NEAR(coco({stray, hit}).average(), 0.5, kTight);
  EXPECT_DOUBLE_EQ(coco({hit, stray}).average(), 1.0);
}

// Area ranges (COCOeval's areaRng): a box outside the range is ignored, not counted.

TEST(CocoAreaRanges, ABoxOfExactly32By32IsSmallAndMedium) {
  const std::vector<ImageAnnotations> images{{{truth(0, 0, 32, 32)}, {detection(0, 0, 32, 32, 0.9)}}};
  for (const AreaRange& range : {kAreaSmall, kAreaMedium}) {
    const std::optional<CocoPrecision> p = coco_precision(images, 0, 100, range);
    ASSERT_TRUE(p.has_value()) << range.name;
    EXPECT_EQ(p->num_ground_truth, 1) << range.name;
    EXPECT_NEAR(p->average(), 1.0, kTight) << range.name;
    EXPECT_NEAR(p->average_recall(), 1.0, kTight) << range.name;
  }
  EXPECT_FALSE(coco_precision(images, 0, 100, kAreaLarge).has_value());  // no large ground truth
}

TEST(CocoAreaRanges, AnUnmatchedDetectionOutsideTheRangeIsIgnored) {
  // A small face found, and a large stray box above it in score: a false alarm for "all" and
  // "large" is no business of "small".
  const std::vector<ImageAnnotations> images{
      {{truth(0, 0, 20, 20), truth(100, 100, 300, 300)},
       {detection(400, 0, 600, 200, 0.95), detection(0, 0, 20, 20, 0.9)}}};
  const CocoPrecision small = coco_precision(images, 0, 100, kAreaSmall).value();
  EXPECT_NEAR(small.average(), 1.0, kTight);
  EXPECT_NEAR(small.average_recall(), 1.0, kTight);
  const CocoPrecision large = coco_precision(images, 0, 100, kAreaLarge).value();
  EXPECT_EQ(large.num_ground_truth, 1);
  EXPECT_NEAR(large.average_recall(), 0.0, kTight);  // the large face was missed
  const CocoPrecision all = coco_precision(images, 0, 100).value();
  EXPECT_NEAR(all.average_recall(), 0.5, kTight);
  // Precision 1/2 from recall 0 to 0.5: 51 of 101 points.
  EXPECT_NEAR(all.average(), 0.5 * 51 / 101, kTight);
}

TEST(CocoAreaRanges, AMatchToAGroundTruthOutsideTheRangeIsIgnored) {
  // The detection is small but lies on a medium face: for "small" it neither hits nor misses.
  const std::vector<ImageAnnotations> images{
      {{truth(0, 0, 40, 40), truth(200, 200, 210, 210)}, {detection(0, 0, 30, 36, 0.9), detection(200, 200, 210, 210, 0.5)}}};
  const CocoPrecision small = coco_precision(images, 0, 100, kAreaSmall).value();
  EXPECT_EQ(small.num_ground_truth, 1);
  EXPECT_NEAR(small.average(), 1.0, kTight);  // the first detection would have been a false alarm
}

}  // namespace
}  // namespace maskdet::eval
