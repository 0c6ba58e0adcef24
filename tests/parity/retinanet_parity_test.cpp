// Output parity with torchvision: a ResNet-18 FPN RetinaNet with the fixture's weights
// (fixture_weights.h) on the fixture's already-transformed 1x3x128x160 input must reproduce
// torchvision 0.14's pyramid features, head outputs, anchors, both losses, gradients and
// detections (tools/make_parity_fixtures.py made them; tests/parity/README.md says how).
//
// Tolerances, each relative to the largest magnitude of the expected tensor (so an element
// near zero is not held to a relative bound its float32 rounding cannot meet), plus the same
// relative bound per element:
//   forward values (features, head outputs, losses, detection scores and boxes)  1e-4
//   gradients                                                                     1e-3
//   anchors                                                                       exact
// Both implementations sum in float32 but in different orders (im2col GEMM here, oneDNN
// there), and ResNet-18 features reach magnitudes near 10, so 1e-5 would be at the rounding
// noise; gradients pass through one more chain of such sums.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "retinanet/retinanet.h"
#include "tensor/safetensors.h"
#include "test_util.h"
#include "parity/fixture_weights.h"

namespace maskdet {
namespace {

constexpr double kForwardTolerance = 1e-4;
constexpr double kGradientTolerance = 1e-3;

std::string fixture_path() { return test::fixture_file("tests/parity/data/retinanet_r18.safetensors"); }

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_vector<double>()) m = std::max(m, std::abs(v));
  return m;
}

// Also prints the worst deviation relative to the expected tensor's scale, the figure the
// tolerances above were chosen against.
::testing::AssertionResult near_relative(const Tensor& actual, const Tensor& expected, double tolerance,
                                         const std::string& what) {
  const double scale = max_abs(expected);
  if (actual.shape() == expected.shape()) {
    const auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - e[i]));
    std::printf("[parity] %-55s max |diff| / max |expected| = %.2e (max |expected| %.3g)\n", what.c_str(),
                scale > 0 ? worst / scale : worst, scale);
  }
  return test::tensors_near(actual, expected, tolerance * scale, tolerance);
}

// Everything the model computes on the fixture, once for all the tests below.
struct ParityRun {
  std::map<std::string, Tensor> fixture;
  std::shared_ptr<RetinaNet> model;
  Tensor input;
  RetinaNetOutputs outputs;
  RetinaNetLosses losses;
  std::map<std::string, Tensor> parameters;

  const Tensor& expected(const std::string& key) const {
    const auto it = fixture.find(key);
    if (it == fixture.end()) throw Error("the parity fixture has no entry " + key);
    return it->second;
  }
  ::testing::AssertionResult matches(const Tensor& actual, const std::string& key, double tolerance) const {
    return near_relative(actual, expected(key), tolerance, key);
  }
};

const ParityRun& parity_run() {
  static const ParityRun run = [] {
    ParityRun r;
    r.fixture = load_safetensors(fixture_path());
    r.model = std::make_shared<RetinaNet>(test::parity_retinanet_config());
    test::load_fixture_weights(*r.model, r.fixture);
    r.input = r.expected("input").clone();
    r.input.set_requires_grad(true);
    r.outputs = r.model->forward(r.input);
    r.losses = r.model->compute_loss(
        r.outputs, {DetectionTarget{r.expected("targets.boxes"), r.expected("targets.labels")}});
    r.losses.total().backward();
    for (const auto& [name, p] : r.model->named_parameters()) r.parameters[name] = p;
    return r;
  }();
  return run;
}

TEST(RetinaNetParity, PyramidFeatures) {
  const ParityRun& run = parity_run();
  ASSERT_EQ(run.outputs.features.size(), 5u);
  for (size_t level = 0; level < 5; ++level) {
    const std::string key = "features.p" + std::to_string(level + 3);
    EXPECT_TRUE(run.matches(run.outputs.features[level], key, kForwardTolerance));
  }
}

TEST(RetinaNetParity, HeadOutputsAndAnchors) {
  const ParityRun& run = parity_run();
  EXPECT_TRUE(run.matches(run.outputs.cls_logits, "head.cls_logits", kForwardTolerance));
  EXPECT_TRUE(run.matches(run.outputs.bbox_regression, "head.bbox_regression", kForwardTolerance));
  EXPECT_TRUE(test::tensors_near(run.outputs.anchors, run.expected("anchors"), 0.0));
}

TEST(RetinaNetParity, Losses) {
  const ParityRun& run = parity_run();
  EXPECT_TRUE(run.matches(run.losses.classification, "loss.classification", kForwardTolerance));
  EXPECT_TRUE(run.matches(run.losses.bbox_regression, "loss.bbox_regression", kForwardTolerance));
}

TEST(RetinaNetParity, Gradients) {
  const ParityRun& run = parity_run();
  int64_t checked = 0;
  for (const auto& [key, expected] : run.fixture) {
    if (key.rfind("grad.", 0) != 0) continue;
    const std::string name = key.substr(5);
    Tensor grad;
    if (name == "input") {
      grad = run.input.grad();
    } else {
      ASSERT_TRUE(run.parameters.count(name)) << "no parameter " << name;
      grad = run.parameters.at(name).grad();
    }
    ASSERT_TRUE(grad.defined()) << name << " has no gradient";
    // The fixture keeps the leading output channels of large gradients.
    EXPECT_TRUE(run.matches(grad.slice(0, 0, expected.size(0)), key, kGradientTolerance));
    ++checked;
  }
  EXPECT_EQ(checked, 7);
}

// Detections must agree in number, and each expected one must have a counterpart with the same
// label, score and box. Matching rather than comparing in order: two scores closer than the
// tolerance may come out in either order (the fixture's metadata records the closest pair).
void expect_same_detections(const ParityRun& run, const std::string& prefix) {
  const std::vector<int64_t> caps = run.expected(prefix + ".caps").to_vector<int64_t>();
  PostprocessConfig config = run.model->config().postprocess;
  config.topk_candidates = caps.at(0);
  config.detections_per_image = caps.at(1);
  const std::vector<Detections> got =
      postprocess_detections(run.outputs.cls_logits, run.outputs.bbox_regression, run.outputs.anchors,
                             run.outputs.anchors_per_level, {run.outputs.batch_size}, config, {});
  ASSERT_EQ(got.size(), 1u);
  const Tensor expected_scores = run.expected(prefix + ".scores");
  ASSERT_EQ(got[0].scores.numel(), expected_scores.numel()) << prefix;
  ASSERT_GT(expected_scores.numel(), 0) << prefix;
  const auto e_scores = expected_scores.to_vector<double>(), g_scores = got[0].scores.to_vector<double>();
  const auto e_boxes = run.expected(prefix + ".boxes").to_vector<double>(), g_boxes = got[0].boxes.to_vector<double>();
  const auto e_labels = run.expected(prefix + ".labels").to_vector<int64_t>();
  const auto g_labels = got[0].labels.to_vector<int64_t>();
  const double box_tolerance = kForwardTolerance * std::max(run.outputs.batch_size.height, run.outputs.batch_size.width);
  std::vector<bool> used(g_scores.size(), false);
  for (size_t i = 0; i < e_scores.size(); ++i) {
    bool found = false;
    for (size_t j = 0; j < g_scores.size() && !found; ++j) {
      if (used[j] || g_labels[j] != e_labels[i] || std::abs(g_scores[j] - e_scores[i]) > kForwardTolerance * e_scores[i])
        continue;
      bool same_box = true;
      for (size_t k = 0; k < 4; ++k) same_box = same_box && std::abs(g_boxes[4 * j + k] - e_boxes[4 * i + k]) <= box_tolerance;
      found = used[j] = same_box;
    }
    EXPECT_TRUE(found) << prefix << ": no counterpart for expected detection " << i << " (label " << e_labels[i]
                       << ", score " << e_scores[i] << ", box " << e_boxes[4 * i] << " " << e_boxes[4 * i + 1] << " "
                       << e_boxes[4 * i + 2] << " " << e_boxes[4 * i + 3] << ")";
  }
}

TEST(RetinaNetParity, DetectionsWithTheModelsSettings) { expect_same_detections(parity_run(), "detections"); }

TEST(RetinaNetParity, DetectionsWithBindingCaps) { expect_same_detections(parity_run(), "detections_capped"); }

TEST(RetinaNetParity, ModelPostprocessUsesTheConfig) {
  // The model's own postprocess() with the default settings is the first run above.
  const ParityRun& run = parity_run();
  EXPECT_EQ(run.model->postprocess(run.outputs)[0].scores.numel(), run.expected("detections.scores").numel());
}

}  // namespace
}  // namespace maskdet
