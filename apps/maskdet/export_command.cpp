// `maskdet export`: a snapshot's detector as an ONNX model (onnx_graph.h) for ONNX Runtime,
// OpenCV's DNN module and other ONNX runtimes; docs/DEPLOY.md, section "ONNX export", describes
// the model's inputs and outputs. The model is checked (onnx::checker, shape inference) before it
// is written, under a temporary name renamed over --out, which must not exist unless --overwrite.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "apps/cli/flags.h"
#include "apps/maskdet/commands.h"
#include "apps/maskdet/detector.h"
#include "apps/maskdet/onnx_graph.h"
#include "tensor/json_text.h"

namespace maskdet::app {

namespace {

namespace fs = std::filesystem;

struct ExportSettings {
  std::string snapshot;
  std::string out;
  bool with_postprocess = false;
  bool overwrite = false;
  int64_t opset = kOnnxOpset;
  // The in-graph post-processing's, as RetinaNet's (torchvision's) defaults: a low threshold
  // leaves the choice of the operating point to the caller.
  double score_threshold = PostprocessConfig{}.score_threshold;
  double nms_threshold = PostprocessConfig{}.nms_iou_threshold;
  int64_t detections_per_image = PostprocessConfig{}.detections_per_image;
  int64_t topk_candidates = PostprocessConfig{}.topk_candidates;
  bool class_agnostic_nms = false;
  bool opencv_compatible = false;
};

}  // namespace

int export_command(const std::vector<std::string>& args) {
  ExportSettings s;
  cli::Flags flags("maskdet export",
                   "Writes a snapshot's detector as an ONNX model (opset 17): input images (N, 3, H, W), RGB in [0, 255],\n"
                   "H and W multiples of 32; outputs cls_logits and bbox_regression, and with --with-postprocess\n"
                   "boxes, scores, labels and batch_index after NMS (docs/DEPLOY.md).");
  flags.add("--snapshot", s.snapshot, "FILE|DIR", "the snapshot (a folder: its newest)");
  flags.add("--out", s.out, "FILE", "the ONNX model to write (model.onnx)");
  flags.add_switch("--with-postprocess", s.with_postprocess,
                   "also decode the boxes and run per-class NMS in the graph (ONNX NonMaxSuppression)");
  flags.add_switch("--overwrite", s.overwrite, "replace --out when it exists");
  flags.add("--opset", s.opset, "N", "ONNX operator set (17 only)");
  flags.add("--score-threshold", s.score_threshold, "X", "--with-postprocess: candidates scoring at most this are dropped");
  flags.add("--nms-threshold", s.nms_threshold, "X", "--with-postprocess: IoU above which NMS suppresses a box");
  flags.add("--detections-per-image", s.detections_per_image, "N", "--with-postprocess: best detections kept per image");
  flags.add("--topk-candidates", s.topk_candidates, "N", "--with-postprocess: best candidates per pyramid level before NMS");
  flags.add_switch("--class-agnostic-nms", s.class_agnostic_nms,
                   "--with-postprocess: one NMS over all classes: one box per object when its classes exclude each other");
  flags.add_switch("--opencv-compatible", s.opencv_compatible,
                   "ReLU6 as two Relus instead of Clip, for OpenCV 4.6's DNN module (MobileNetV2 only; slower in "
                   "ONNX Runtime)");
  if (cli::Flags::wants_help(args)) {
    std::cout << flags.usage();
    return 0;
  }
  flags.parse(args);
  if (s.snapshot.empty()) throw cli::UsageError("maskdet export: --snapshot FILE is required");
  if (s.out.empty()) throw cli::UsageError("maskdet export: --out FILE is required");
  if (s.opset != kOnnxOpset)
    throw cli::UsageError("maskdet export: --opset " + std::to_string(s.opset) + " is not supported: the export writes opset " +
                          std::to_string(kOnnxOpset) + " only");
  if (!(s.score_threshold >= 0 && s.score_threshold < 1))
    throw cli::UsageError("maskdet export: --score-threshold must be in [0, 1)");
  if (!(s.nms_threshold > 0 && s.nms_threshold <= 1)) throw cli::UsageError("maskdet export: --nms-threshold must be in (0, 1]");
  if (s.detections_per_image < 1) throw cli::UsageError("maskdet export: --detections-per-image must be >= 1");
  if (s.topk_candidates < 1) throw cli::UsageError("maskdet export: --topk-candidates must be >= 1");
  std::error_code ec;
  if (fs::exists(s.out, ec) && !s.overwrite)
    throw cli::UsageError("maskdet export: " + s.out + " exists; pass --overwrite to replace it");
  MASKDET_CHECK(!fs::is_directory(s.out, ec), "--out ", s.out, " is a folder, not a file");
  const fs::path folder = fs::path(s.out).parent_path();
  MASKDET_CHECK(folder.empty() || fs::is_directory(folder, ec), "--out ", s.out, ": the folder ", folder.string(),
                " does not exist");

  LoadedDetector detector = load_detector(s.snapshot, Device::cpu(), s.score_threshold, s.class_agnostic_nms);
  RetinaNet& model = *detector.model;
  const data::PipelineOptions size = inference_pipeline(detector.settings);
  OnnxExportOptions options;
  options.with_postprocess = s.with_postprocess;
  options.opencv_compatible = s.opencv_compatible;
  // load_detector has set the score threshold and the kind of NMS.
  options.postprocess = model.config().postprocess;
  options.postprocess.nms_iou_threshold = s.nms_threshold;
  options.postprocess.detections_per_image = s.detections_per_image;
  options.postprocess.topk_candidates = s.topk_candidates;
  const PostprocessConfig& pp = options.postprocess;
  options.metadata = {
      {"classes", json::dump(nlohmann::ordered_json(detector.info.classes))},
      {"snapshot", detector.path},
      {"epoch", std::to_string(detector.info.epoch)},
      {"backbone", detector.settings.backbone},
      {"input", "images (N, 3, H, W) float32 RGB in [0, 255], H and W multiples of 32, padded with RGB (124, 116, 104)"},
      {"image_min_side", std::to_string(static_cast<int64_t>(size.min_side))},
      {"image_max_side", std::to_string(static_cast<int64_t>(size.max_side))},
  };
  if (s.with_postprocess) {
    options.metadata["score_threshold"] = std::to_string(pp.score_threshold);
    options.metadata["nms_threshold"] = std::to_string(pp.nms_iou_threshold);
    options.metadata["detections_per_image"] = std::to_string(pp.detections_per_image);
    options.metadata["class_agnostic_nms"] = pp.class_agnostic_nms ? "true" : "false";
  }
  onnx::ModelProto proto = build_onnx_model(model, options);
  check_onnx_model(proto);
  write_onnx_model(proto, s.out);
  std::printf("wrote %s: %s, %zu classes, opset %lld%s (%.1f MB); resize images to a %lld..%lld px side as trained\n",
              s.out.c_str(), detector.settings.backbone.c_str(), detector.info.classes.size(),
              static_cast<long long>(kOnnxOpset), s.with_postprocess ? ", with post-processing" : "",
              static_cast<double>(fs::file_size(s.out)) / 1e6, static_cast<long long>(size.min_side),
              static_cast<long long>(size.max_side));
  return 0;
}

}  // namespace maskdet::app
