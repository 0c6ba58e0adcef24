// Rebuilding and running a detector (detector.h).
#include "apps/maskdet/detector.h"

#include <algorithm>

#include "apps/data/sample_pipeline.h"
#include "autograd/grad_mode.h"

namespace maskdet::app {

LoadedDetector load_detector(const std::string& snapshot_path, Device device, double score_threshold,
                             bool class_agnostic_nms) {
  LoadedDetector detector;
  detector.path = resolve_snapshot(snapshot_path);
  Snapshot snapshot = load_snapshot(detector.path);
  detector.settings = settings_from_record(snapshot.info.config);
  detector.info = snapshot.info;
  detector.device = device;
  RetinaNetConfig config = retinanet_config(detector.settings, snapshot.info.classes.size());
  config.postprocess.score_threshold = score_threshold;
  config.postprocess.class_agnostic_nms = class_agnostic_nms;
  detector.model = std::make_shared<RetinaNet>(config);
  load_snapshot_model(*detector.model, snapshot);
  detector.model->to(device);
  detector.model->eval();
  return detector;
}

std::vector<ImageDetections> detect(RetinaNet& model, const data::Batch& batch, Device device) {
  NoGradGuard no_grad;
  const RetinaNetOutputs outputs = model.forward(batch.images.to(device));
  std::vector<ImageSize> sizes;
  for (const auto& s : batch.image_sizes) sizes.push_back({s.height, s.width});
  const std::vector<Detections> found = model.postprocess(outputs, sizes);
  std::vector<ImageDetections> out(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    const std::vector<float> boxes = found[i].boxes.to_vector<float>();
    const std::vector<float> scores = found[i].scores.to_vector<float>();
    const std::vector<int64_t> labels = found[i].labels.to_vector<int64_t>();
    const float width = static_cast<float>(batch.original_sizes[i].width);
    const float height = static_cast<float>(batch.original_sizes[i].height);
    for (size_t d = 0; d < scores.size(); ++d) {
      DetectedBox box;
      box.x1 = std::clamp(boxes[4 * d] / batch.scales_x[i], 0.f, width);
      box.y1 = std::clamp(boxes[4 * d + 1] / batch.scales_y[i], 0.f, height);
      box.x2 = std::clamp(boxes[4 * d + 2] / batch.scales_x[i], 0.f, width);
      box.y2 = std::clamp(boxes[4 * d + 3] / batch.scales_y[i], 0.f, height);
      box.score = scores[d];
      box.class_id = static_cast<int>(labels[d]);
      out[i].push_back(box);
    }
  }
  return out;
}

ImageDetections detect_picture(const LoadedDetector& detector, const data::RgbImage& image, const std::string& name) {
  data::Sample sample{image, {}, image.size(), name, 0};
  Generator unused;  // the pipeline draws nothing without augmentation
  const data::Batch batch =
      data::collate({data::prepare_sample(std::move(sample), inference_pipeline(detector.settings), unused)});
  return detect(*detector.model, batch, detector.device)[0];
}

}  // namespace maskdet::app
