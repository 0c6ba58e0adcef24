// `maskdet export` end to end: every backbone and head setting `maskdet train` can make exports and
// passes the ONNX checker; ONNX Runtime (tests/cli/onnx_runtime_outputs.py) reproduces maskdet's
// raw outputs and its post-processed detections on fixed images of two sizes, batch 2, for
// ResNet-18 and MobileNetV2 with GroupNorm heads; OpenCV's DNN module loads and runs the
// raw-output model; and the command's usage rules (no overwrite without --overwrite, opset 17
// only, a missing snapshot named).
//
// The models are built in-process with random weights, their norm statistics and head weights
// spread so that activations, scores and boxes vary as a trained model's do (a freshly
// initialised head gives every anchor the same prior score, which would leave NMS only ties),
// and saved as snapshots for the command to read.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "apps/data/normalize.h"
#include "apps/maskdet/snapshot.h"
#include "apps/maskdet/train_settings.h"
#include "autograd/grad_mode.h"
#include "cli/cli_test_util.h"
#include "layers/init.h"
#include "tensor/creation.h"
#include "tensor/generator.h"
#include "tensor/safetensors.h"

#ifdef MASKDET_HAVE_ONNX
#include <opencv2/dnn.hpp>

#include "apps/maskdet/onnx_graph.h"
#endif

namespace maskdet::cli_test {
namespace {

namespace fs = std::filesystem;

class OnnxExport : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / ("maskdet_onnx_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

#ifdef MASKDET_HAVE_ONNX

using app::TrainSettings;

const std::vector<std::string> kClasses = {"mask", "noMask"};

TrainSettings settings_for(const std::string& backbone, const std::string& norm, bool group_norm, int64_t head_depth,
                           int64_t fpn_channels) {
  TrainSettings s;
  s.backbone = backbone;
  s.weights = "none";
  s.norm = norm;
  s.head_group_norm = group_norm;
  s.head_depth = head_depth;
  s.fpn_channels = fpn_channels;
  s.image_min_side = 64;
  s.image_max_side = 128;
  return s;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Spreads what a fresh model has at constants: norm statistics and affine maps, biases, and the
// predictors' weights (class logits spread over a few units, box deltas over a few tenths).
void spread_weights(RetinaNet& model, uint64_t seed) {
  Generator gen(seed);
  NoGradGuard no_grad;
  for (const auto& [name, t] : model.state_dict()) {
    if (t.dtype() != DType::Float32) continue;  // num_batches_tracked
    if (ends_with(name, "running_mean")) {
      nn::init::uniform_(t, -0.2, 0.2, &gen);
    } else if (ends_with(name, "running_var")) {
      nn::init::uniform_(t, 0.5, 2.0, &gen);
    } else if (ends_with(name, "cls_logits.weight")) {
      nn::init::normal_(t, 0.2, 0.0, &gen);
    } else if (ends_with(name, "cls_logits.bias")) {
      nn::init::uniform_(t, -2.5, -1.5, &gen);
    } else if (ends_with(name, "bbox_reg.weight")) {
      nn::init::normal_(t, 0.03, 0.0, &gen);
    } else if (t.dim() == 1 && ends_with(name, ".weight")) {
      nn::init::uniform_(t, 0.5, 1.5, &gen);
    } else if (t.dim() == 1 && ends_with(name, ".bias")) {
      nn::init::uniform_(t, -0.2, 0.2, &gen);
    }
  }
}

std::shared_ptr<RetinaNet> make_model(const TrainSettings& settings, uint64_t seed) {
  manual_seed(seed);
  auto model = std::make_shared<RetinaNet>(app::retinanet_config(settings, kClasses.size()));
  spread_weights(*model, seed);
  model->eval();
  return model;
}

std::string save_as_snapshot(const RetinaNet& model, const TrainSettings& settings, const std::string& file) {
  app::SnapshotInfo info;
  info.epoch = 1;
  info.config = app::settings_record(settings);
  info.classes = kClasses;
  app::save_snapshot(file, model, nullptr, info);
  return file;
}

// A fixed batch of plain RGB images in [0, 255]: smooth gradients plus noise.
Tensor fixed_images(int64_t n, int64_t height, int64_t width, uint64_t seed) {
  Generator gen(seed);
  Tensor noise = rand({n, 3, height, width}, {}, &gen, 0.0, 64.0);
  std::vector<float> v = noise.to_vector<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < height; ++y)
        for (int64_t x = 0; x < width; ++x) {
          float& p = v[static_cast<size_t>(((i * 3 + c) * height + y) * width + x)];
          p += 191.f * static_cast<float>((x * (c + 1) + y * (3 - c) + 37 * i) % width) / static_cast<float>(width);
        }
  return from_vector(v, {n, 3, height, width});
}

// The data pipeline's normalisation (normalize.h), image by image.
Tensor normalised(const Tensor& images) {
  std::vector<float> v = images.to_vector<float>();
  const size_t per_image = static_cast<size_t>(images.size(1) * images.size(2) * images.size(3));
  for (size_t start = 0; start < v.size(); start += per_image) {
    std::vector<float> planar(v.begin() + static_cast<std::ptrdiff_t>(start),
                              v.begin() + static_cast<std::ptrdiff_t>(start + per_image));
    data::normalize_planar(planar);
    std::copy(planar.begin(), planar.end(), v.begin() + static_cast<std::ptrdiff_t>(start));
  }
  return from_vector(v, images.shape());
}

// max |a - b| / max |b|: the error relative to the output's scale.
double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

struct Reference {
  Tensor images;  // (N, 3, H, W) RGB [0, 255]
  Tensor cls_logits, bbox_regression;
  std::vector<Detections> detections, agnostic_detections;
};

// The score threshold of the post-processing tests: high enough that no image reaches the
// 300 detections per image, where a near tie would decide which detection is cut.
constexpr double kScoreThreshold = 0.2;

Reference reference(RetinaNet& model, const Tensor& images) {
  NoGradGuard no_grad;
  Reference r;
  r.images = images;
  const RetinaNetOutputs out = model.forward(normalised(images));
  r.cls_logits = out.cls_logits;
  r.bbox_regression = out.bbox_regression;
  PostprocessConfig per_class = model.config().postprocess;
  per_class.score_threshold = kScoreThreshold;
  PostprocessConfig agnostic = per_class;
  agnostic.class_agnostic_nms = true;
  const std::vector<ImageSize> sizes(static_cast<size_t>(images.size(0)), out.batch_size);
  r.detections = postprocess_detections(out.cls_logits, out.bbox_regression, out.anchors, out.anchors_per_level, sizes,
                                        per_class, model.config().loss.box_coder);
  r.agnostic_detections = postprocess_detections(out.cls_logits, out.bbox_regression, out.anchors,
                                                 out.anchors_per_level, sizes, agnostic, model.config().loss.box_coder);
  return r;
}

bool onnx_has_initializer(const onnx::ModelProto& proto, const std::string& name) {
  for (const auto& t : proto.graph().initializer())
    if (t.name() == name) return true;
  return false;
}

// ---- every architecture exports and passes the checker ----

TEST_F(OnnxExport, EveryBackboneAndHeadSettingPassesTheChecker) {
  const auto start = std::chrono::steady_clock::now();
  struct Case {
    std::string norm;
    bool group_norm;
    int64_t head_depth, fpn_channels;
    std::string anchor_sizes;
    bool with_postprocess;
  };
  const std::vector<Case> cases = {{"frozen", false, 4, 64, "32,64,128,256,512", false},
                                   {"batch", true, 1, 32, "16,32,64,128,256", true},
                                   {"frozen", false, 0, 16, "32,64,128,256,512", true}};
  int exported = 0;
  // Every backbone once, cycling through the head cases; all cases on ResNet-18 and MobileNetV2.
  std::vector<std::pair<std::string, Case>> runs;
  for (size_t b = 0; b < app::backbone_names().size(); ++b) {
    const std::string& backbone = app::backbone_names()[b];
    const bool small = backbone == "resnet18" || backbone == "mobilenet_v2";
    for (size_t i = 0; i < cases.size(); ++i)
      if (small || i == b % cases.size()) runs.emplace_back(backbone, cases[i]);
  }
  for (const auto& [backbone, c] : runs) {
    for (const bool opencv : {false, true}) {
      SCOPED_TRACE(backbone + " norm " + c.norm + (c.group_norm ? " group norm" : "") + " depth " +
                   std::to_string(c.head_depth) + " fpn " + std::to_string(c.fpn_channels));
      TrainSettings s = settings_for(backbone, c.norm, c.group_norm, c.head_depth, c.fpn_channels);
      s.anchor_sizes = c.anchor_sizes;
      manual_seed(1);
      RetinaNet model(app::retinanet_config(s, kClasses.size()));
      model.eval();
      app::OnnxExportOptions options;
      options.with_postprocess = c.with_postprocess;
      options.postprocess = model.config().postprocess;
      options.opencv_compatible = opencv;
      onnx::ModelProto proto = app::build_onnx_model(model, options);
      ASSERT_NO_THROW(app::check_onnx_model(proto));
      // Every weight is an initializer under its state_dict name.
      for (const auto& [name, t] : model.state_dict()) {
        if (!ends_with(name, "num_batches_tracked")) {
          EXPECT_TRUE(onnx_has_initializer(proto, name)) << name;
        }
      }
      EXPECT_EQ(proto.graph().output_size(), c.with_postprocess ? 6 : 2);
      ++exported;
      if (backbone != "mobilenet_v2") break;  // the option changes MobileNetV2's ReLU6 only
    }
  }
  // The paper's P6 from C5, which the pyramid supports though no train flag selects it.
  RetinaNetConfig c5;
  c5.backbone = app::backbone_config("resnet18");
  c5.fpn_channels = 32;
  c5.num_classes = 2;
  c5.p6_source = P6Source::C5;
  RetinaNet model(c5);
  model.eval();
  onnx::ModelProto proto = app::build_onnx_model(model, {});
  ASSERT_NO_THROW(app::check_onnx_model(proto));
  EXPECT_TRUE(onnx_has_initializer(proto, "backbone.fpn.extra_blocks.p6.weight"));
  std::printf("%d exports and checks in %.1f s\n", exported + 1,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

TEST_F(OnnxExport, TrainingModeIsRefused) {
  manual_seed(1);
  RetinaNet model(app::retinanet_config(settings_for("resnet18", "batch", false, 1, 16), 2));
  EXPECT_THROW(app::build_onnx_model(model, {}), Error);
}

// ---- ONNX Runtime and OpenCV against maskdet ----

struct Tolerance {
  static constexpr double kRelative = 1e-4;
};

// Detections agree when each image has as many, and each of ONNX Runtime's has a maskdet
// detection of the same label with the score and box within tolerance: at the same rank, or
// (for scores that differ in their last bits and so may swap ranks) at another rank.
void expect_detections_match(const std::vector<Detections>& expected, const std::map<std::string, Tensor>& ort,
                             const std::string& prefix, int64_t max_side, double& worst_score, double& worst_box,
                             int64_t& total) {
  const std::vector<float> boxes = ort.at(prefix + "boxes").to_vector<float>();
  const std::vector<float> scores = ort.at(prefix + "scores").to_vector<float>();
  const std::vector<int64_t> labels = ort.at(prefix + "labels").to_vector<int64_t>();
  const std::vector<int64_t> batch = ort.at(prefix + "batch_index").to_vector<int64_t>();
  size_t row = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::vector<float> e_boxes = expected[i].boxes.to_vector<float>();
    const std::vector<float> e_scores = expected[i].scores.to_vector<float>();
    const std::vector<int64_t> e_labels = expected[i].labels.to_vector<int64_t>();
    size_t count = 0;
    while (row + count < batch.size() && batch[row + count] == static_cast<int64_t>(i)) ++count;
    ASSERT_EQ(count, e_scores.size()) << prefix << " image " << i << ": detections";
    ASSERT_GT(count, 0u) << prefix << " image " << i << ": the test needs detections";
    std::vector<bool> used(count, false);
    auto errors = [&](size_t d, size_t e) {
      double box = 0;
      for (int k = 0; k < 4; ++k)
        box = std::max(box, std::abs(static_cast<double>(boxes[4 * (row + d) + k]) - e_boxes[4 * e + k]) /
                                static_cast<double>(max_side));
      return std::pair<double, double>{std::abs(static_cast<double>(scores[row + d]) - e_scores[e]) / e_scores[e], box};
    };
    for (size_t d = 0; d < count; ++d) {
      size_t match = count;
      for (size_t e = d, tried = 0; tried < count; ++tried, e = (e + 1) % count) {
        if (used[e] || labels[row + d] != e_labels[e]) continue;
        const auto [score_error, box_error] = errors(d, e);
        if (score_error < 1e-4 && box_error < 1e-4) {
          match = e;
          break;
        }
      }
      if (match == count) {
        ADD_FAILURE() << prefix << " image " << i << ": detection " << d << " (label " << labels[row + d] << ", score "
                      << scores[row + d] << ") has no counterpart in maskdet's";
        continue;
      }
      used[match] = true;
      const auto [score_error, box_error] = errors(d, match);
      worst_score = std::max(worst_score, score_error);
      worst_box = std::max(worst_box, box_error);
    }
    row += count;
    total += static_cast<int64_t>(count);
  }
  EXPECT_EQ(row, batch.size()) << prefix << ": detections of images not in the batch";
}

// Runs onnx_runtime_outputs.py; false (with the reason in `why`) when onnxruntime is missing.
bool run_onnx_runtime(const std::string& inputs, const std::string& outputs, const std::string& models, std::string& why) {
  const std::string script = std::string(MASKDET_SOURCE_DIR) + "/tests/cli/onnx_runtime_outputs.py";
  const std::string command = "python3 '" + script + "' '" + inputs + "' '" + outputs + "' " + models + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  why = output;
  if (code == 77) return false;
  EXPECT_EQ(code, 0) << output;
  std::printf("%s", output.c_str());
  return true;
}

void check_against_onnx_runtime(const fs::path& dir, const std::string& backbone, const std::string& norm) {
  const auto start = std::chrono::steady_clock::now();
  const TrainSettings settings = settings_for(backbone, norm, /*group_norm=*/true, /*head_depth=*/2, /*fpn_channels=*/32);
  auto model = make_model(settings, 7);
  const std::string snapshot = save_as_snapshot(*model, settings, (dir / "snapshot.safetensors").string());
  const std::string raw = (dir / "raw.onnx").string(), post = (dir / "post.onnx").string(),
                    agnostic = (dir / "agnostic.onnx").string();
  for (const auto& [out, flags] : std::vector<std::pair<std::string, std::string>>{
           {raw, ""}, {post, "--with-postprocess"}, {agnostic, "--with-postprocess --class-agnostic-nms"}}) {
    const CommandResult r = run_maskdet("export --snapshot '" + snapshot + "' --out '" + out + "' --score-threshold " +
                                        std::to_string(kScoreThreshold) + " " + flags);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("wrote " + out), std::string::npos) << r.output;
  }
  // Two sizes (the model's H, W are dynamic), batch 2 each.
  const std::vector<Reference> refs = {reference(*model, fixed_images(2, 64, 96, 11)),
                                       reference(*model, fixed_images(2, 128, 64, 12))};
  std::vector<std::pair<std::string, Tensor>> inputs;
  for (size_t i = 0; i < refs.size(); ++i) inputs.emplace_back("images_" + std::to_string(i), refs[i].images);
  const std::string inputs_file = (dir / "inputs.safetensors").string(), outputs_file = (dir / "ort.safetensors").string();
  save_safetensors(inputs_file, inputs);
  std::string why;
  if (!run_onnx_runtime(inputs_file, outputs_file,
                        "raw='" + raw + "' post='" + post + "' agnostic='" + agnostic + "'", why))
    GTEST_SKIP() << why;
  const std::map<std::string, Tensor> ort = load_safetensors(outputs_file);
  double logits_error = 0, deltas_error = 0, score_error = 0, box_error = 0;
  int64_t detections = 0, agnostic_detections = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    const std::string image = "/images_" + std::to_string(i) + "/";
    for (const std::string model_name : {"raw", "post"}) {
      logits_error = std::max(logits_error, relative_error(ort.at(model_name + image + "cls_logits").to_vector<float>(),
                                                           refs[i].cls_logits.to_vector<float>()));
      deltas_error = std::max(deltas_error, relative_error(ort.at(model_name + image + "bbox_regression").to_vector<float>(),
                                                           refs[i].bbox_regression.to_vector<float>()));
    }
    const int64_t max_side = std::max(refs[i].images.size(2), refs[i].images.size(3));
    expect_detections_match(refs[i].detections, ort, "post" + image, max_side, score_error, box_error, detections);
    expect_detections_match(refs[i].agnostic_detections, ort, "agnostic" + image, max_side, score_error, box_error,
                            agnostic_detections);
  }
  std::printf("%s: max relative error vs maskdet: cls_logits %.2e, bbox_regression %.2e, detection scores %.2e, "
              "boxes %.2e of the image side; %lld detections per-class NMS, %lld class-agnostic; %.1f s\n",
              backbone.c_str(), logits_error, deltas_error, score_error, box_error, static_cast<long long>(detections),
              static_cast<long long>(agnostic_detections),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  EXPECT_LT(logits_error, Tolerance::kRelative);
  EXPECT_LT(deltas_error, Tolerance::kRelative);
  EXPECT_LT(score_error, Tolerance::kRelative);
  EXPECT_LT(box_error, Tolerance::kRelative);
  EXPECT_LT(agnostic_detections, detections) << "class-agnostic NMS should suppress across classes";
}

TEST_F(OnnxExport, OnnxRuntimeMatchesMaskdetResNet18) { check_against_onnx_runtime(dir_, "resnet18", "batch"); }

TEST_F(OnnxExport, OnnxRuntimeMatchesMaskdetMobileNetV2) { check_against_onnx_runtime(dir_, "mobilenet_v2", "frozen"); }

// OpenCV's importer (4.6 here) on the raw-output model (--opencv-compatible): the same logits and
// deltas, one image per forward at two sizes. (OpenCV 4.6 gives wrong outputs, different from run
// to run, for batches of more than one image of this graph; docs/DEPLOY.md says so.)
TEST_F(OnnxExport, OpenCvDnnRunsTheRawModel) {
  const auto start = std::chrono::steady_clock::now();
  for (const std::string backbone : {"mobilenet_v2", "resnet18"}) {
    SCOPED_TRACE(backbone);
    const TrainSettings settings = settings_for(backbone, "frozen", /*group_norm=*/true, 2, 32);
    auto model = make_model(settings, 5);
    const std::string snapshot = save_as_snapshot(*model, settings, path(backbone + ".safetensors"));
    const std::string onnx_file = path(backbone + ".onnx");
    const CommandResult r = run_maskdet("export --snapshot '" + snapshot + "' --out '" + onnx_file + "' --opencv-compatible");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    cv::dnn::Net net = cv::dnn::readNetFromONNX(onnx_file);
    ASSERT_FALSE(net.empty());
    for (const auto& [n, h, w] : std::vector<std::tuple<int, int, int>>{{1, 64, 96}, {1, 96, 64}}) {
      const Reference ref = reference(*model, fixed_images(n, h, w, 21));
      std::vector<float> pixels = ref.images.to_vector<float>();
      const int dims[] = {n, 3, h, w};
      net.setInput(cv::Mat(4, dims, CV_32F, pixels.data()), "images");
      std::vector<cv::Mat> outs;
      net.forward(outs, std::vector<cv::String>{"cls_logits", "bbox_regression"});
      ASSERT_EQ(outs.size(), 2u);
      for (const cv::Mat& m : outs) ASSERT_TRUE(m.isContinuous() && m.type() == CV_32F);
      const std::vector<float> logits(outs[0].ptr<float>(), outs[0].ptr<float>() + outs[0].total());
      const std::vector<float> deltas(outs[1].ptr<float>(), outs[1].ptr<float>() + outs[1].total());
      const double logits_error = relative_error(logits, ref.cls_logits.to_vector<float>());
      const double deltas_error = relative_error(deltas, ref.bbox_regression.to_vector<float>());
      std::printf("OpenCV %s %s %dx%dx%d: max relative error cls_logits %.2e, bbox_regression %.2e\n", CV_VERSION,
                  backbone.c_str(), n, h, w, logits_error, deltas_error);
      EXPECT_LT(logits_error, Tolerance::kRelative);
      EXPECT_LT(deltas_error, Tolerance::kRelative);
    }
  }
  std::printf("%.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

// ---- the command's rules ----

TEST_F(OnnxExport, CommandRefusesToOverwriteAndNamesBadInput) {
  const TrainSettings settings = settings_for("resnet18", "frozen", false, 1, 16);
  auto model = make_model(settings, 3);
  const std::string snapshot = save_as_snapshot(*model, settings, path("snapshot.safetensors"));
  const std::string out = path("model.onnx");
  std::ofstream(out) << "the user's file";
  CommandResult r = run_maskdet("export --snapshot '" + snapshot + "' --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--overwrite"), std::string::npos) << r.output;
  std::ifstream kept(out);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}), "the user's file");

  r = run_maskdet("export --snapshot '" + snapshot + "' --out '" + out + "' --overwrite");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(fs::file_size(out), 1000u);
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();

  r = run_maskdet("export --snapshot '" + snapshot + "' --out '" + path("other.onnx") + "' --opset 13");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--opset 13"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("other.onnx")));

  const std::string missing = path("no_such_snapshot.safetensors");
  r = run_maskdet("export --snapshot '" + missing + "' --out '" + path("other.onnx") + "'");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(missing), std::string::npos) << r.output;

  const std::string not_a_snapshot = path("notes.safetensors");
  std::ofstream(not_a_snapshot) << "not a snapshot";
  r = run_maskdet("export --snapshot '" + not_a_snapshot + "' --out '" + path("other.onnx") + "'");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(not_a_snapshot), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("other.onnx")));

  r = run_maskdet("export --out '" + path("other.onnx") + "'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = run_maskdet("export --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--with-postprocess"), std::string::npos) << r.output;
}

#else  // no libonnx-dev at build time

TEST_F(OnnxExport, CommandSaysOnnxIsMissing) {
  const CommandResult r = run_maskdet("export --snapshot x --out '" + path("model.onnx") + "'");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("libonnx-dev"), std::string::npos) << r.output;
}

#endif

}  // namespace
}  // namespace maskdet::cli_test
