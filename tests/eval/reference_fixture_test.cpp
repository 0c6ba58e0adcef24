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
#include "tensor/json.h"

namespace maskdet::eval {
namespace {

constexpr double kTolerance = 1e-6;

// The fixture writes floats as strings (tensor/json.h reads integers only).
double real(const json::Value& v) {
  char* end = nullptr;
  const double x = std::strtod(v.as_string().c_str(), &end);
  EXPECT_EQ(*end, '\0') << "not a number: " << v.as_string();
  return x;
}

const json::Value& member(const json::Value& object, std::string_view key) {
  const json::Value* v = object.find(key);
  if (v == nullptr) throw Error("eval_case.json: no member '" + std::string(key) + "'");
  return *v;
}

Box box(const std::vector<json::Value>& row) { return {real(row[0]), real(row[1]), real(row[2]), real(row[3])}; }

class ReferenceFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::ifstream in(MASKDET_SOURCE_DIR "/tests/eval/data/eval_case.json");
    ASSERT_TRUE(in) << "missing tests/eval/data/eval_case.json (tools/make_eval_fixtures.py writes it)";
    std::stringstream text;
    text << in.rdbuf();
    fixture_ = new json::Value(json::parse(text.str()));
    images_ = new std::vector<ImageAnnotations>();
    for (const json::Value& image : member(*fixture_, "images").as_array()) {
      ImageAnnotations a;
      for (const json::Value& g : member(image, "ground_truth").as_array()) {
        const auto& row = g.as_array();
        a.ground_truth.push_back({box(row), static_cast<int>(row[4].as_integer()), row[5].as_integer() != 0});
      }
      for (const json::Value& d : member(image, "detections").as_array()) {
        const auto& row = d.as_array();
        a.detections.push_back({box(row), static_cast<int>(row[4].as_integer()), real(row[5])});
      }
      images_->push_back(std::move(a));
    }
  }
  static void TearDownTestSuite() {
    delete fixture_;
    delete images_;
  }

  static EvalResult evaluate(PixelConvention pixels) {
    EvalOptions options;
    for (const json::Value& name : member(*fixture_, "classes").as_array())
      options.class_names.push_back(name.as_string());
    options.voc_pixels = pixels;
    options.score_threshold = real(member(expected(), "score_threshold"));
    return evaluate_detections(*images_, options);
  }
  static const json::Value& expected() { return member(*fixture_, "expected"); }

  static json::Value* fixture_;
  static std::vector<ImageAnnotations>* images_;
};

json::Value* ReferenceFixture::fixture_ = nullptr;
std::vector<ImageAnnotations>* ReferenceFixture::images_ = nullptr;

TEST_F(ReferenceFixture, CaseIsNotTrivial) {
  ASSERT_EQ(images_->size(), 30u);
  size_t most_detections = 0;
  for (const ImageAnnotations& image : *images_) most_detections = std::max(most_detections, image.detections.size());
  EXPECT_GT(most_detections, 100u);  // exercises COCO's maxDets
}

TEST_F(ReferenceFixture, CocoMatchesPycocotools) {
  const EvalResult result = evaluate(PixelConvention::Inclusive);
  const json::Value& coco = member(expected(), "coco");
  EXPECT_NEAR(result.map.value(), real(member(coco, "map")), kTolerance);
  EXPECT_NEAR(result.map50_coco.value(), real(member(coco, "map50")), kTolerance);
  EXPECT_NEAR(result.map75.value(), real(member(coco, "map75")), kTolerance);
  for (const ClassEval& c : result.per_class) {
    SCOPED_TRACE(c.name);
    const json::Value& reference = member(member(coco, "per_class"), c.name);
    EXPECT_NEAR(c.ap.value(), real(member(reference, "ap")), kTolerance);
    EXPECT_NEAR(c.ap50_coco.value(), real(member(reference, "ap50")), kTolerance);
    EXPECT_NEAR(c.ap75.value(), real(member(reference, "ap75")), kTolerance);
  }
}

// A figure the fixture writes as "undefined" (COCOeval's -1) must be undefined here too.
void expect_figure(const std::optional<double>& figure, const json::Value& reference) {
  if (reference.as_string() == "undefined") {
    EXPECT_FALSE(figure.has_value());
    return;
  }
  ASSERT_TRUE(figure.has_value());
  EXPECT_NEAR(*figure, real(reference), kTolerance);
}

TEST_F(ReferenceFixture, RecallAndSizesMatchPycocotools) {
  const EvalResult result = evaluate(PixelConvention::Inclusive);
  const json::Value& coco = member(expected(), "coco");
  expect_figure(result.mar, member(coco, "mar"));
  int sizes_with_boxes = 0;
  for (int size = 0; size < kNumSizes; ++size) {
    const char* name = kAreaSizes[size].name;
    SCOPED_TRACE(name);
    const json::Value& reference = member(member(coco, "by_size"), name);
    expect_figure(result.by_size[size].ap, member(reference, "ap"));
    expect_figure(result.by_size[size].ar, member(reference, "ar"));
    sizes_with_boxes += result.by_size[size].num_gt > 0 ? 1 : 0;
  }
  EXPECT_EQ(sizes_with_boxes, kNumSizes);  // the case exercises every range
  for (const ClassEval& c : result.per_class) {
    SCOPED_TRACE(c.name);
    const json::Value& reference = member(member(coco, "per_class"), c.name);
    expect_figure(c.ar, member(reference, "ar"));
    for (int size = 0; size < kNumSizes; ++size) {
      const char* name = kAreaSizes[size].name;
      SCOPED_TRACE(name);
      const json::Value& by_size = member(member(reference, "by_size"), name);
      EXPECT_EQ(c.by_size[size].num_gt, member(by_size, "num_gt").as_integer());
      expect_figure(c.by_size[size].ap, member(by_size, "ap"));
      expect_figure(c.by_size[size].ar, member(by_size, "ar"));
    }
  }
}

TEST_F(ReferenceFixture, VocMatchesTheDevkitRulesUnderBothPixelConventions) {
  for (const auto& [pixels, name] :
       {std::pair{PixelConvention::Inclusive, "inclusive"}, std::pair{PixelConvention::Continuous, "continuous"}}) {
    SCOPED_TRACE(name);
    const EvalResult result = evaluate(pixels);
    const json::Value& voc = member(member(expected(), "voc"), name);
    EXPECT_NEAR(result.map50.value(), real(member(voc, "map50")), kTolerance);
    for (const ClassEval& c : result.per_class) {
      SCOPED_TRACE(c.name);
      const json::Value& reference = member(member(voc, "per_class"), c.name);
      EXPECT_NEAR(c.ap50.value(), real(member(reference, "ap50")), kTolerance);
      EXPECT_EQ(c.num_gt, member(reference, "num_gt").as_integer());
      EXPECT_EQ(c.num_difficult, member(reference, "num_difficult").as_integer());
      EXPECT_EQ(c.num_det, member(reference, "num_det").as_integer());
      const int64_t tp = member(reference, "true_positives").as_integer();
      const int64_t fp = member(reference, "false_positives").as_integer();
      EXPECT_DOUBLE_EQ(c.precision.value(), static_cast<double>(tp) / static_cast<double>(tp + fp));
      EXPECT_DOUBLE_EQ(c.recall.value(), static_cast<double>(tp) / static_cast<double>(c.num_gt));
    }
  }
}

}  // namespace
}  // namespace maskdet::eval
