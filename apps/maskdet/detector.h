// A trained detector as the programs use it: rebuilt from a snapshot alone (its recorded
// settings give the architecture and the input size), run on batches with no graph, and its
// detections mapped from the network input back to the pixels of the image files, where
// annotations, evaluation and drawings live.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "apps/data/batch.h"
#include "apps/maskdet/snapshot.h"
#include "apps/maskdet/train_settings.h"
#include "retinanet/retinanet.h"

namespace maskdet::app {

struct DetectedBox {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // in the original image's pixels
  float score = 0;
  int class_id = 0;
};
using ImageDetections = std::vector<DetectedBox>;

struct LoadedDetector {
  std::shared_ptr<RetinaNet> model;  // in eval mode, on `device`
  TrainSettings settings;
  SnapshotInfo info;
  Device device;
  std::string path;
  bool averaged_weights = false;  // the snapshot's moving average of the weights (train --ema)
  bool flip_test = false;         // detect()'s, for the pictures the programs hand it
  int canvas = 0;                 // inference_canvas's `requested`
};

// The side of the square canvas each image is padded to (at the bottom and right, at least)
// before it goes through the model. Training's batches mix portrait and landscape photos, so
// nearly every one is padded to the longer side's limit both ways, and the model learns with that
// padding about each image (GroupNorm's statistics in the heads include it). Padded only to
// multiples of 32, an image alone scored 0.857 mAP@0.5 on the validation split, in batches of 8
// 0.892, on the canvas 0.896 however batched (docs/RESULTS.md, "The canvas").
// requested > 0: that side; 0: the pipeline's max_side rounded up to 32 (none for a view at a
// fixed scale, or a pipeline without a longer side's limit).
int inference_canvas(const data::PipelineOptions& pipeline, int requested = 0);

// score_threshold: the post-processing's (candidates below it are dropped before NMS);
// class_agnostic_nms: PostprocessConfig's (retinanet/postprocess.h). `weights`: by default the
// weights' moving average where the run kept one, as the run's own validation used it.
LoadedDetector load_detector(const std::string& snapshot_path, Device device, double score_threshold,
                             bool class_agnostic_nms = false,
                             SnapshotWeights weights = SnapshotWeights::AverageIfAny);

// The model's detections for each image of the batch, in original pixels, by descending score.
// flip_test: test-time augmentation with a horizontal flip, as mmdetection's for single-stage
// detectors: each image also goes through mirrored within its own width, the mirrored pass's
// boxes are mirrored back, and the detections of both passes go through the model's NMS again
// (per class, or over all classes with its class_agnostic_nms) and its detections_per_image.
// Twice the model's time.
std::vector<ImageDetections> detect(RetinaNet& model, const data::Batch& batch, Device device, bool flip_test = false);

// The detections NMS keeps (within each class, or over all classes when class_agnostic), by
// descending score, at most max_detections: how two passes over one picture are merged.
ImageDetections nms_detections(const ImageDetections& detections, double iou_threshold, bool class_agnostic,
                               size_t max_detections);

// One picture resized to the detector's inference size (inference_pipeline), as a batch of one
// on the detector's canvas.
ImageDetections detect_picture(const LoadedDetector& detector, const data::RgbImage& image, const std::string& name);

}  // namespace maskdet::app
