// The small-face pass (small_face_pass.h).
#include "apps/maskdet/small_face_pass.h"

#include <algorithm>
#include <cmath>

#include "apps/data/resize.h"

namespace maskdet::app {

namespace {

double side_of(const DetectedBox& box) { return std::max(box.x2 - box.x1, box.y2 - box.y1); }

// The part of `inner` that `outer` covers.
double covered(const DetectedBox& inner, const DetectedBox& outer) {
  const double w = std::min(inner.x2, outer.x2) - std::max(inner.x1, outer.x1);
  const double h = std::min(inner.y2, outer.y2) - std::max(inner.y1, outer.y1);
  const double area = (inner.x2 - inner.x1) * (inner.y2 - inner.y1);
  return w <= 0 || h <= 0 || area <= 0 ? 0 : w * h / area;
}

}  // namespace

SmallFacePass small_face_pass(const TrainSettings& settings, double min_face) {
  MASKDET_CHECK(min_face >= 0, "--min-face must be >= 0 px, got ", min_face);
  return {min_face, 1.5 * parse_anchor_sizes(settings.anchor_sizes).front()};
}

double small_face_scale(const SmallFacePass& pass, const data::PipelineOptions& base, data::PixelSize original) {
  if (!pass.enabled() || original.width <= 0 || original.height <= 0) return 0;
  const double wanted = pass.resolved_side / pass.min_face;
  const double pixels = static_cast<double>(original.width) * original.height;
  const double scale = std::min(wanted, std::sqrt(kMaxSmallFacePixels / pixels));
  // Not worth a second forward unless it enlarges the faces noticeably over the first pass.
  return scale > 1.25 * data::resize_scale(original, base.min_side, base.max_side) ? scale : 0;
}

std::optional<data::Batch> small_face_batch(data::Sample sample, const data::PipelineOptions& base,
                                            const SmallFacePass& pass) {
  const data::PixelSize original = sample.original_size.width > 0 ? sample.original_size : sample.image.size();
  data::PipelineOptions enlarged = base;
  enlarged.scale = small_face_scale(pass, base, original);
  if (enlarged.scale == 0) return std::nullopt;
  Generator unused;  // the pipeline draws nothing without augmentation
  return data::collate({data::prepare_sample(std::move(sample), enlarged, unused)});
}

ImageDetections merge_small_faces(ImageDetections base, const ImageDetections& small, const SmallFacePass& pass,
                                  double base_scale, size_t max_detections) {
  const double poorly_resolved = pass.resolved_side / base_scale;  // original pixels
  const size_t first_pass = base.size();
  for (const DetectedBox& box : small) {
    if (side_of(box) >= poorly_resolved) continue;
    // Enlarged, a large face's eyes or mouth can look like a small face; but no face lies
    // inside another, so a box mostly within a first-pass detection that scores higher goes.
    bool inside = false;
    for (size_t i = 0; i < first_pass && !inside; ++i)
      inside = base[i].score >= box.score && covered(box, base[i]) > 0.5;
    if (!inside) base.push_back(box);
  }
  return nms_detections(base, 0.5, /*class_agnostic=*/false, max_detections);
}

ImageDetections detect_picture_with_small_faces(const LoadedDetector& detector, const data::RgbImage& image,
                                                const std::string& name, const SmallFacePass& pass) {
  ImageDetections base = detect_picture(detector, image, name);
  const data::PipelineOptions pipeline = inference_pipeline(detector.settings);
  const std::optional<data::Batch> batch = small_face_batch({image, {}, image.size(), name, 0}, pipeline, pass);
  if (!batch) return base;
  const ImageDetections small = detect(*detector.model, *batch, detector.device, detector.flip_test)[0];
  return merge_small_faces(std::move(base), small, pass,
                           data::resize_scale(image.size(), pipeline.min_side, pipeline.max_side));
}

}  // namespace maskdet::app
