// The detector as an ONNX graph (ONNX operator set 17, https://onnx.ai/onnx/operators/), built
// with the ONNX project's protobuf classes (Debian's libonnx-dev) by walking the model the way
// RetinaNet::forward runs it: the input normalisation, the backbone (ResNet or MobileNetV2), the
// feature pyramid and the two head subnets on every level; optionally followed by the
// post-processing of retinanet/postprocess.h (anchors made from the feature maps' shapes, box
// decoding, top-k candidates, per-class NonMaxSuppression). docs/DEPLOY.md describes the inputs
// and outputs; the export command is apps/maskdet/export_command.cpp.
//
// Weights are initializers named by the model's state_dict keys ("backbone.body.conv1.weight");
// batch norms are BatchNormalization nodes with their running statistics (eval mode), GroupNorm
// is InstanceNormalization over a reshape (GroupNormalization only arrives in opset 18), and
// per-channel affine maps are BatchNormalization nodes too (OpenCV 4.6 broadcasts a Mul or Add
// with a (1, C, 1, 1) constant over a batch of one only).
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include <onnx/onnx_pb.h>

#include "retinanet/retinanet.h"

namespace maskdet::app {

inline constexpr int64_t kOnnxOpset = 17;

struct OnnxExportOptions {
  // Also decode the boxes (with the model's box coder) and run NMS in the graph.
  bool with_postprocess = false;
  // What the graph's post-processing does (score threshold, top-k, NMS, detections per image);
  // the caller starts from the model's RetinaNet::config().postprocess.
  PostprocessConfig postprocess;
  // ReLU6 (MobileNetV2) as relu(x) - relu(x - 6) instead of Clip, which OpenCV 4.6's importer
  // cannot read in opset 17; ONNX Runtime runs Clip fused into the convolutions, about twice as
  // fast on MobileNetV2 (47 vs 86 ms for a 256x352 image on this 2-core machine).
  bool opencv_compatible = false;
  // Stored as the model's metadata_props (e.g. classes, the snapshot's input size).
  std::map<std::string, std::string> metadata;
};

// The model (in eval mode, on the CPU) as an ONNX model; not yet checked (check_onnx_model).
onnx::ModelProto build_onnx_model(const RetinaNet& model, const OnnxExportOptions& options);

// Runs onnx::checker (full check) and shape inference (strict), which adds the inferred
// value_info of the intermediate values to the graph. Throws maskdet::Error with the checker's
// message.
void check_onnx_model(onnx::ModelProto& model);

// The serialised model, written to a temporary file beside `path` and renamed over it.
void write_onnx_model(const onnx::ModelProto& model, const std::string& path);

}  // namespace maskdet::app
