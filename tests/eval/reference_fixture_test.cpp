// The evaluator against reference numbers on a seeded random case (tests/eval/data/
// eval_case.json, made by tools/make_eval_fixtures.py): COCO AP, AP50, AP75, AR@100 and the AP
// and AR of small, medium and large boxes from pycocotools' COCOeval, and VOC all-point AP@0.5 with the counts at score 0.5 from a Python port of the
// devkit's rules, under both pixel conventions. The case has ties in score, difficult and
// overlapping ground truth, wrong classes, duplicates, borderline overlaps and an image with more
// than 100 detections.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "apps/eval/coco_ap.h"
#include "apps/eval/detection_eval.h"
#include "tensor/json_text.h"

namespace maskdet::eval {
namespace {

constexpr double kTolerance = 1e-6;

using Json = nlohmann::ordered_json;

double real(const Json& v) {
  EXPECT_TRUE(v.is_number()) << "not a number: " << v.dump();
  return v.get<double>();
}

Box box(const Json& row) { return {real(row[0]), real(row[1]), real(row[2]), real(row[3])}; }

class ReferenceFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::ifstream in(MASKDET_SOURCE_DIR "/tests/eval/data/eval_case.json");
    ASSERT_TRUE(in) << "missing tests/eval/data/eval_case.json (tools/make_eval_fixtures.py writes it)";
    std::stringstream text;
    text << in.rdbuf();
    fixture_ = new Json(json::parse(text.str()));
    images_ = new std::vector<ImageAnnotations>();
    for (const Json& image : fixture_->at("images")) {
      ImageAnnotations a;
      for (const Json& row : image.at("ground_truth"))
        a.ground_truth.push_back({box(row), row.at(4).get<int>(), row.at(5).get<int>() != 0});
      for (const Json& row : image.at("detections"))
        a.detections.push_back({box(row), row.at(4).get<int>(), real(row.at(5))});
      images_->push_back(std::move(a));
    }
  }
  static void TearDownTestSuite() {
    delete fixture_;
    delete images_;
  }

  static EvalResult evaluate(PixelConvention pixels) {
    EvalOptions options;
    for (const Json& name : fixture_->at("classes")) options.class_names.push_back(name.get<std::string>());
    options.voc_pixels = pixels;
    options.score_threshold = real(expected().at("score_threshold"));
    return evaluate_detections(*images_, options);
  }
  static const Json& expected() { return fixture_->at("expected"); }

  static Json* fixture_;
  static std::vector<ImageAnnotations>* images_;
};

Json* ReferenceFixture::fixture_ = nullptr;
std::vector<ImageAnnotations>* ReferenceFixture::images_ = nullptr;

TEST_F(ReferenceFixture, CaseIsNotTrivial) {
  ASSERT_EQ(images_->size(), 30u);
  size_t most_detections = 0;
  for (const ImageAnnotations& image : *images_) most_detections = std::max(most_detections, image.detections.size());
  EXPECT_GT(most_detections, 100u);  // exercises COCO's maxDets
}

TEST_F(ReferenceFixture, CocoMatchesPycocotools) {
  const EvalResult result = evaluate(PixelConvention::Inclusive);
  const Json& coco = expected().at("coco");
  EXPECT_NEAR(result.map.value(), real(coco.at("map")), kTolerance);
  EXPECT_NEAR(result.map50_coco.value(), real(coco.at("map50")), kTolerance);
  EXPECT_NEAR(result.map75.value(), real(coco.at("map75")), kTolerance);
  for (const ClassEval& c : result.per_class) {
    SCOPED_TRACE(c.name);
    const Json& reference = coco.at("per_class").at(c.name);
    EXPECT_NEAR(c.ap.value(), real(reference.at("ap")), kTolerance);
    EXPECT_NEAR(c.ap50_coco.value(), real(reference.at("ap50")), kTolerance);
    EXPECT_NEAR(c.ap75.value(), real(reference.at("ap75")), kTolerance);
  }
}

// A figure the fixture writes as null (COCOeval's -1) must be undefined here too.
void expect_figure(const std::optional<double>& figure, const Json& reference) {
  if (reference.is_null()) {
    EXPECT_FALSE(figure.has_value());
    return;
  }
  ASSERT_TRUE(figure.has_value());
  EXPECT_NEAR(*figure, real(reference), kTolerance);
}

TEST_F(ReferenceFixture, RecallAndSizesMatchPycocotools) {
  const EvalResult result = evaluate(PixelConvention::Inclusive);
  const Json& coco = expected().at("coco");
  expect_figure(result.mar, coco.at("mar"));
  int sizes_with_boxes = 0;
  for (int size = 0; size < kNumSizes; ++size) {
    const char* name = kAreaSizes[size].name;
    SCOPED_TRACE(name);
    const Json& reference = coco.at("by_size").at(name);
    expect_figure(result.by_size[size].ap, reference.at("ap"));
    expect_figure(result.by_size[size].ar, reference.at("ar"));
    sizes_with_boxes += result.by_size[size].num_gt > 0 ? 1 : 0;
  }
  EXPECT_EQ(sizes_with_boxes, kNumSizes);  // the case exercises every range
  for (const ClassEval& c : result.per_class) {
    SCOPED_TRACE(c.name);
    const Json& reference = coco.at("per_class").at(c.name);
    expect_figure(c.ar, reference.at("ar"));
    for (int size = 0; size < kNumSizes; ++size) {
      const char* name = kAreaSizes[size].name;
      SCOPED_TRACE(name);
      const Json& by_size = reference.at("by_size").at(name);
      EXPECT_EQ(c.by_size[size].num_gt, by_size.at("num_gt").get<int64_t>());
      expect_figure(c.by_size[size].ap, by_size.at("ap"));
      expect_figure(c.by_size[size].ar, by_size.at("ar"));
    }
  }
}

TEST_F(ReferenceFixture, VocMatchesTheDevkitRulesUnderBothPixelConventions) {
  for (const auto& [pixels, name] :
       {std::pair{PixelConvention::Inclusive, "inclusive"}, std::pair{PixelConvention::Continuous, "continuous"}}) {
    SCOPED_TRACE(name);
    const EvalResult result = evaluate(pixels);
    const Json& voc = expected().at("voc").at(name);
    EXPECT_NEAR(result.map50.value(), real(voc.at("map50")), kTolerance);
    for (const ClassEval& c : result.per_class) {
      SCOPED_TRACE(c.name);
      const Json& reference = voc.at("per_class").at(c.name);
      EXPECT_NEAR(c.ap50.value(), real(reference.at("ap50")), kTolerance);
      EXPECT_EQ(c.num_gt, reference.at("num_gt").get<int64_t>());
      EXPECT_EQ(c.num_difficult, reference.at("num_difficult").get<int64_t>());
      EXPECT_EQ(c.num_det, reference.at("num_det").get<int64_t>());
      const int64_t tp = reference.at("true_positives").get<int64_t>();
      const int64_t fp = reference.at("false_positives").get<int64_t>();
      EXPECT_DOUBLE_EQ(c.precision.value(), static_cast<double>(tp) / static_cast<double>(tp + fp));
      EXPECT_DOUBLE_EQ(c.recall.value(), static_cast<double>(tp) / static_cast<double>(c.num_gt));
    }
  }
}

}  // namespace
}  // namespace maskdet::eval
