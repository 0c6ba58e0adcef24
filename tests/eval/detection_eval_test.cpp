// The evaluator as a whole (apps/eval/detection_eval.h): means over the classes that have
// ground truth, precision and recall at the score threshold, input checks, and the JSON report.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/eval_test_helpers.h"

namespace maskdet::eval {
namespace {

using test::detection;
using test::evaluate;
using test::truth;

TEST(DetectionEval, ClassWithoutGroundTruthIsLeftOutOfTheMeans) {
  // mask: found exactly (AP 1 by both rules). noMask: one stray detection and no ground truth,
  // so its AP is undefined and the means are over mask alone: 1, not (1 + 0) / 2.
  const std::vector<ImageAnnotations> images = {
      {{truth(0, 0, 10, 10, 0)}, {detection(0, 0, 10, 10, 0.9, 0), detection(50, 50, 60, 60, 0.8, 1)}}};
  const EvalResult r = evaluate(images, {"mask", "noMask"});
  ASSERT_EQ(r.per_class.size(), 2u);
  EXPECT_FALSE(r.per_class[1].ap50.has_value());
  EXPECT_FALSE(r.per_class[1].ap.has_value());
  EXPECT_FALSE(r.per_class[1].recall.has_value());
  EXPECT_DOUBLE_EQ(r.per_class[1].precision.value(), 0.0);  // its one detection is wrong
  EXPECT_EQ(r.per_class[1].num_det, 1);
  EXPECT_DOUBLE_EQ(r.map50.value(), 1.0);
  EXPECT_DOUBLE_EQ(r.map.value(), 1.0);
  EXPECT_DOUBLE_EQ(r.map50_coco.value(), 1.0);
  EXPECT_DOUBLE_EQ(r.map75.value(), 1.0);
  // Pooled at score .5: 1 TP (mask), 1 FP (noMask) over 1 ground truth.
  EXPECT_DOUBLE_EQ(r.precision.value(), 0.5);
  EXPECT_DOUBLE_EQ(r.recall.value(), 1.0);
}

TEST(DetectionEval, NoDetectionsAtAllGiveZero) {
  // Every AP 0 (recall never rises); recall 0; precision undefined (nothing was detected).
  const std::vector<ImageAnnotations> images = {{{truth(0, 0, 10, 10, 0), truth(5, 5, 30, 30, 1)}, {}}, {{}, {}}};
  const EvalResult r = evaluate(images, {"mask", "noMask"});
  for (const ClassEval& c : r.per_class) {
    EXPECT_EQ(c.ap50.value(), 0.0);
    EXPECT_EQ(c.ap.value(), 0.0);
    EXPECT_EQ(c.recall.value(), 0.0);
    EXPECT_FALSE(c.precision.has_value());
    EXPECT_TRUE(c.pr_curve.empty());
  }
  EXPECT_EQ(r.map50.value(), 0.0);
  EXPECT_EQ(r.map.value(), 0.0);
  EXPECT_FALSE(r.precision.has_value());
  EXPECT_EQ(r.recall.value(), 0.0);
  EXPECT_EQ(r.num_images, 2);
}

TEST(DetectionEval, PrecisionAndRecallAtTheScoreThreshold) {
  // mask: TP .9, FP .6, TP .4 over 2 truths -> at .5: precision 1/2, recall 1/2; at .3:
  // precision 2/3, recall 1. noMask: TP .7 over 1 truth -> precision 1, recall 1.
  // Pooled at .5: 2 TP, 1 FP, 3 truths -> 2/3 and 2/3.
  const std::vector<ImageAnnotations> images = {{{truth(0, 0, 10, 10), truth(30, 30, 40, 40), truth(60, 0, 80, 20, 1)},
                                                 {detection(0, 0, 10, 10, 0.9), detection(60, 60, 70, 70, 0.6),
                                                  detection(30, 30, 40, 40, 0.4), detection(60, 0, 80, 20, 0.7, 1)}}};
  const EvalResult r = evaluate(images, {"mask", "noMask"});
  EXPECT_DOUBLE_EQ(r.per_class[0].precision.value(), 0.5);
  EXPECT_DOUBLE_EQ(r.per_class[0].recall.value(), 0.5);
  EXPECT_DOUBLE_EQ(r.per_class[1].precision.value(), 1.0);
  EXPECT_DOUBLE_EQ(r.precision.value(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.recall.value(), 2.0 / 3.0);
  const EvalResult low = evaluate(images, {"mask", "noMask"}, PixelConvention::Continuous, 0.3);
  EXPECT_DOUBLE_EQ(low.per_class[0].precision.value(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(low.per_class[0].recall.value(), 1.0);
  EXPECT_EQ(r.per_class[0].pr_curve.size(), 3u);
}

TEST(DetectionEval, RejectsMalformedInput) {
  const auto run = [](std::vector<ImageAnnotations> images, std::vector<std::string> names = {"mask"}) {
    return evaluate(images, std::move(names));
  };
  EXPECT_THROW(run({{{truth(0, 0, 10, 10, 1)}, {}}}), Error);                 // class id 1 of 1 class
  EXPECT_THROW(run({{{}, {detection(0, 0, 10, 10, 0.5, -1)}}}), Error);       // negative class id
  EXPECT_THROW(run({{{truth(10, 0, 0, 10)}, {}}}), Error);                    // x2 < x1
  EXPECT_THROW(run({{{}, {detection(0, 0, 10, 10, std::nan(""))}}}), Error);  // score
  EXPECT_THROW(run({{{truth(0, 0, INFINITY, 10)}, {}}}), Error);              // coordinate
  EXPECT_THROW(run({}, {}), Error);                                           // no classes
  EXPECT_THROW(run({}, {"mask", "mask"}), Error);                             // names key the JSON
  EXPECT_NO_THROW(run({}));                                                   // no images: nothing defined
}

TEST(DetectionEval, JsonReport) {
  // mask found exactly; noMask absent from ground truth and detections alike. COCO's figures
  // fall short of 1 by rounding, as in pycocotools: its precision is tp / (tp + fp + 2.2e-16),
  // here 1 / (1 + 2^-52) = 0.9999999999999998, and a mean of 101 of those.
  const std::vector<ImageAnnotations> images = {{{truth(0, 0, 10, 10)}, {detection(0, 0, 10, 10, 0.9)}}};
  EvalResult r = evaluate(images, {"mask", "noMask"});
  r.seconds_per_image = 0.125;
  EXPECT_EQ(r.to_json(), R"({
  "per_class": {
    "mask": {
      "ap50": 1.0,
      "ap": 0.9999999999999998,
      "ap50_coco": 0.9999999999999999,
      "ap75": 0.9999999999999999,
      "precision": 1.0,
      "recall": 1.0,
      "num_gt": 1,
      "num_difficult": 0,
      "num_det": 1,
      "ar": 1.0,
      "by_size": {
        "small": {
          "num_gt": 1,
          "ap": 0.9999999999999998,
          "ar": 1.0
        },
        "medium": {
          "num_gt": 0,
          "ap": null,
          "ar": null
        },
        "large": {
          "num_gt": 0,
          "ap": null,
          "ar": null
        }
      }
    },
    "noMask": {
      "ap50": null,
      "ap": null,
      "ap50_coco": null,
      "ap75": null,
      "precision": null,
      "recall": null,
      "num_gt": 0,
      "num_difficult": 0,
      "num_det": 0,
      "ar": null,
      "by_size": {
        "small": {
          "num_gt": 0,
          "ap": null,
          "ar": null
        },
        "medium": {
          "num_gt": 0,
          "ap": null,
          "ar": null
        },
        "large": {
          "num_gt": 0,
          "ap": null,
          "ar": null
        }
      }
    }
  },
  "map50": 1.0,
  "map": 0.9999999999999998,
  "map50_coco": 0.9999999999999999,
  "map75": 0.9999999999999999,
  "mar": 1.0,
  "by_size": {
    "small": {
      "num_gt": 1,
      "ap": 0.9999999999999998,
      "ar": 1.0
    },
    "medium": {
      "num_gt": 0,
      "ap": null,
      "ar": null
    },
    "large": {
      "num_gt": 0,
      "ap": null,
      "ar": null
    }
  },
  "precision": 1.0,
  "recall": 1.0,
  "score_threshold": 0.5,
  "voc_iou_threshold": 0.5,
  "voc_pixels": "continuous",
  "num_images": 1,
  "seconds_per_image": 0.125
}
)");
  r.seconds_per_image.reset();
  EXPECT_EQ(r.to_json().find("seconds_per_image"), std::string::npos);
}

}  // namespace
}  // namespace maskdet::eval
