// Rebuilding and running a detector (detector.h).
#include "apps/maskdet/detector.h"

#include <algorithm>

#include "apps/data/sample_pipeline.h"
#include "autograd/grad_mode.h"
#include "retinanet/box_ops.h"
#include "tensor/creation.h"

namespace maskdet::app {

LoadedDetector load_detector(const std::string& snapshot_path, Device device, double score_threshold,
                             bool class_agnostic_nms, SnapshotWeights weights) {
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
  load_snapshot_model(*detector.model, snapshot, weights);
  detector.averaged_weights = weights == SnapshotWeights::AverageIfAny && !snapshot.average.empty();
  detector.model->to(device);
  detector.model->eval();
  return detector;
}

namespace {

// images: (N, 3, H, W) float32 on the host -> the same with each image's own W_i columns
// mirrored; the padding stays at the right, where the post-processing expects it.
Tensor mirrored_within_extent(const Tensor& images, const std::vector<data::PixelSize>& extents) {
  const Tensor source = images.contiguous();
  Tensor mirrored = source.clone();
  const int64_t channels = source.size(1), height = source.size(2), width = source.size(3);
  const float* in = source.data_ptr<float>();
  float* out = mirrored.data_ptr<float>();
  for (size_t n = 0; n < extents.size(); ++n) {
    const int64_t w = extents[n].width;
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t y = 0; y < extents[n].height; ++y) {
        const int64_t row = ((static_cast<int64_t>(n) * channels + c) * height + y) * width;
        for (int64_t x = 0; x < w; ++x) out[row + x] = in[row + w - 1 - x];
      }
  }
  return mirrored;
}

// One image's detections of both passes (network-input pixels), the mirrored pass's mirrored
// back about the image's width, through NMS again.
Detections merge_flipped(const Detections& plain, const Detections& flipped, float width,
                         const PostprocessConfig& config) {
  std::vector<float> boxes = plain.boxes.to_vector<float>();
  std::vector<float> scores = plain.scores.to_vector<float>();
  std::vector<int64_t> labels = plain.labels.to_vector<int64_t>();
  const std::vector<float> mirrored = flipped.boxes.to_vector<float>();
  for (size_t d = 0; d < mirrored.size() / 4; ++d)
    boxes.insert(boxes.end(), {width - mirrored[4 * d + 2], mirrored[4 * d + 1], width - mirrored[4 * d],
                               mirrored[4 * d + 3]});
  const std::vector<float> more_scores = flipped.scores.to_vector<float>();
  const std::vector<int64_t> more_labels = flipped.labels.to_vector<int64_t>();
  scores.insert(scores.end(), more_scores.begin(), more_scores.end());
  labels.insert(labels.end(), more_labels.begin(), more_labels.end());
  const auto count = static_cast<int64_t>(scores.size());
  const Tensor all_boxes = from_vector(boxes, {count, 4});
  const Tensor all_scores = from_vector(scores, {count});
  const Tensor all_labels = from_vector(labels, {count}, TensorOptions{}.with_dtype(DType::Int64));
  const std::vector<int64_t> kept =
      (config.class_agnostic_nms ? nms(all_boxes, all_scores, config.nms_iou_threshold)
                                 : batched_nms(all_boxes, all_scores, all_labels, config.nms_iou_threshold))
          .to_vector<int64_t>();
  const size_t keep = std::min(kept.size(), static_cast<size_t>(config.detections_per_image));
  std::vector<float> out_boxes, out_scores;
  std::vector<int64_t> out_labels;
  for (size_t k = 0; k < keep; ++k) {
    const auto i = static_cast<size_t>(kept[k]);
    out_boxes.insert(out_boxes.end(), boxes.begin() + 4 * static_cast<std::ptrdiff_t>(i),
                     boxes.begin() + 4 * static_cast<std::ptrdiff_t>(i) + 4);
    out_scores.push_back(scores[i]);
    out_labels.push_back(labels[i]);
  }
  const auto n = static_cast<int64_t>(keep);
  return {from_vector(out_boxes, {n, 4}), from_vector(out_scores, {n}),
          from_vector(out_labels, {n}, TensorOptions{}.with_dtype(DType::Int64))};
}

}  // namespace

std::vector<ImageDetections> detect(RetinaNet& model, const data::Batch& batch, Device device, bool flip_test) {
  NoGradGuard no_grad;
  std::vector<ImageSize> sizes;
  for (const auto& s : batch.image_sizes) sizes.push_back({s.height, s.width});
  std::vector<Detections> found = model.postprocess(model.forward(batch.images.to(device)), sizes);
  if (flip_test) {
    const Tensor mirrored = mirrored_within_extent(batch.images, batch.image_sizes);
    const std::vector<Detections> flipped = model.postprocess(model.forward(mirrored.to(device)), sizes);
    for (size_t i = 0; i < found.size(); ++i)
      found[i] = merge_flipped(found[i], flipped[i], static_cast<float>(sizes[i].width), model.config().postprocess);
  }
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
  return detect(*detector.model, batch, detector.device, detector.flip_test)[0];
}

}  // namespace maskdet::app
