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
};

// score_threshold: the post-processing's (candidates below it are dropped before NMS);
// class_agnostic_nms: PostprocessConfig's (retinanet/postprocess.h).
LoadedDetector load_detector(const std::string& snapshot_path, Device device, double score_threshold,
                             bool class_agnostic_nms = false);

// The model's detections for each image of the batch, in original pixels, by descending score.
std::vector<ImageDetections> detect(RetinaNet& model, const data::Batch& batch, Device device);

// One picture resized to the detector's inference size (inference_pipeline), as a batch of one.
ImageDetections detect_picture(const LoadedDetector& detector, const data::RgbImage& image, const std::string& name);

}  // namespace maskdet::app
