// Rebuilding and running a detector (detector.h).
#include "apps/maskdet/detector.h"

#include <algorithm>
#include <cmath>

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

}  // namespace

namespace {

// One image's detections in the original image's pixels; `mirrored`: found in the image mirrored
// within its extent, so mirrored back first.
ImageDetections in_original_pixels(const Detections& found, const data::Batch& batch, size_t i, bool mirrored) {
  const std::vector<float> boxes = found.boxes.to_vector<float>();
  const std::vector<float> scores = found.scores.to_vector<float>();
  const std::vector<int64_t> labels = found.labels.to_vector<int64_t>();
  const float extent = static_cast<float>(batch.image_sizes[i].width);
  const float width = static_cast<float>(batch.original_sizes[i].width);
  const float height = static_cast<float>(batch.original_sizes[i].height);
  ImageDetections out;
  for (size_t d = 0; d < scores.size(); ++d) {
    const float x1 = mirrored ? extent - boxes[4 * d + 2] : boxes[4 * d];
    const float x2 = mirrored ? extent - boxes[4 * d] : boxes[4 * d + 2];
    DetectedBox box;
    box.x1 = std::clamp(x1 / batch.scales_x[i], 0.f, width);
    box.y1 = std::clamp(boxes[4 * d + 1] / batch.scales_y[i], 0.f, height);
    box.x2 = std::clamp(x2 / batch.scales_x[i], 0.f, width);
    box.y2 = std::clamp(boxes[4 * d + 3] / batch.scales_y[i], 0.f, height);
    box.score = scores[d];
    box.class_id = static_cast<int>(labels[d]);
    out.push_back(box);
  }
  return out;
}

}  // namespace

ImageDetections nms_detections(const ImageDetections& detections, double iou_threshold, bool class_agnostic,
                               size_t max_detections) {
  if (detections.empty()) return {};
  std::vector<float> boxes, scores;
  std::vector<int64_t> labels;
  for (const DetectedBox& d : detections) {
    boxes.insert(boxes.end(), {d.x1, d.y1, d.x2, d.y2});
    scores.push_back(d.score);
    labels.push_back(d.class_id);
  }
  const auto n = static_cast<int64_t>(detections.size());
  const Tensor box_tensor = from_vector(boxes, {n, 4}), score_tensor = from_vector(scores, {n});
  const std::vector<int64_t> keep =
      (class_agnostic ? nms(box_tensor, score_tensor, iou_threshold)
                      : batched_nms(box_tensor, score_tensor, from_vector(labels, {n}, {DType::Int64}), iou_threshold))
          .to_vector<int64_t>();
  ImageDetections kept;
  for (size_t i = 0; i < keep.size() && kept.size() < max_detections; ++i)
    kept.push_back(detections[static_cast<size_t>(keep[i])]);
  return kept;
}

std::vector<ImageDetections> detect(RetinaNet& model, const data::Batch& batch, Device device, bool flip_test) {
  NoGradGuard no_grad;
  std::vector<ImageSize> sizes;
  for (const auto& s : batch.image_sizes) sizes.push_back({s.height, s.width});
  const std::vector<Detections> found = model.postprocess(model.forward(batch.images.to(device)), sizes);
  std::vector<Detections> flipped;
  if (flip_test) {
    const Tensor mirrored = mirrored_within_extent(batch.images, batch.image_sizes);
    flipped = model.postprocess(model.forward(mirrored.to(device)), sizes);
  }
  const PostprocessConfig& config = model.config().postprocess;
  std::vector<ImageDetections> out(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    out[i] = in_original_pixels(found[i], batch, i, false);
    if (!flip_test) continue;
    const ImageDetections other = in_original_pixels(flipped[i], batch, i, true);
    out[i].insert(out[i].end(), other.begin(), other.end());
    out[i] = nms_detections(out[i], config.nms_iou_threshold, config.class_agnostic_nms,
                            static_cast<size_t>(config.detections_per_image));
  }
  return out;
}

int inference_canvas(const data::PipelineOptions& pipeline, int requested) {
  MASKDET_CHECK(requested >= 0, "the canvas must be >= 0 px, got ", requested);
  if (requested > 0) return requested;
  if (pipeline.scale > 0 || !(pipeline.max_side > 0)) return 0;
  const int side = static_cast<int>(std::ceil(pipeline.max_side));
  return (side + data::kSizeDivisible - 1) / data::kSizeDivisible * data::kSizeDivisible;
}

ImageDetections detect_picture(const LoadedDetector& detector, const data::RgbImage& image, const std::string& name) {
  data::Sample sample{image, {}, image.size(), name, 0};
  Generator unused;  // the pipeline draws nothing without augmentation
  const data::PipelineOptions pipeline = inference_pipeline(detector.settings);
  const data::Batch batch = data::collate({data::prepare_sample(std::move(sample), pipeline, unused)},
                                          data::kSizeDivisible, inference_canvas(pipeline, detector.canvas));
  return detect(*detector.model, batch, detector.device, detector.flip_test)[0];
}

}  // namespace maskdet::app
