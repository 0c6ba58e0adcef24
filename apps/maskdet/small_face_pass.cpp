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

std::vector<SmallFaceLevel> small_face_levels(const SmallFacePass& pass, const data::PipelineOptions& base,
                                              data::PixelSize original) {
  if (!pass.enabled() || original.width <= 0 || original.height <= 0) return {};
  MASKDET_CHECK(pass.level_ratio > 1, "small-face pass: level ratio must be > 1, got ", pass.level_ratio);
  const double base_scale = data::resize_scale(original, base.min_side, base.max_side);
  const double pixels = static_cast<double>(original.width) * original.height;
  // Not worth a forward unless it enlarges the faces noticeably over the first pass.
  const double lowest = 1.25 * base_scale;
  const double poorly_resolved = pass.resolved_side / base_scale;  // original pixels
  std::vector<SmallFaceLevel> levels;
  for (double scale = std::min(pass.resolved_side / pass.min_face, std::sqrt(kMaxSmallFacePixels / pixels));
       scale > lowest; scale /= pass.level_ratio) {
    const double min_side = levels.empty() ? 0 : levels.back().max_side;
    levels.push_back({scale, min_side, std::min(poorly_resolved, pass.level_ratio * pass.resolved_side / scale)});
  }
  if (!levels.empty()) levels.back().max_side = poorly_resolved;
  return levels;
}

std::vector<data::Batch> small_face_batches(const data::Sample& sample, const data::PipelineOptions& base,
                                            const std::vector<SmallFaceLevel>& levels, int canvas) {
  std::vector<data::Batch> batches;
  for (const SmallFaceLevel& level : levels) {
    data::PipelineOptions enlarged = base;
    enlarged.scale = level.scale;
    Generator unused;  // the pipeline draws nothing without augmentation
    batches.push_back(data::collate({data::prepare_sample(sample, enlarged, unused)}, data::kSizeDivisible, canvas));
  }
  return batches;
}

ImageDetections merge_small_faces(ImageDetections base, const std::vector<ImageDetections>& found,
                                  const std::vector<SmallFaceLevel>& levels, size_t max_detections) {
  MASKDET_CHECK(found.size() == levels.size(), "small-face pass: ", found.size(), " levels' detections for ",
                levels.size(), " levels");
  // From the first pass to the largest view: each is checked against the views smaller than it.
  for (size_t l = levels.size(); l-- > 0;) {
    const size_t coarser = base.size();
    for (const DetectedBox& box : found[l]) {
      const double side = side_of(box);
      if (side < levels[l].min_side || side >= levels[l].max_side) continue;
      bool inside = false;
      for (size_t i = 0; i < coarser && !inside; ++i)
        inside = base[i].score >= box.score && covered(box, base[i]) > 0.5;
      if (!inside) base.push_back(box);
    }
  }
  return nms_detections(base, 0.5, /*class_agnostic=*/false, max_detections);
}

ImageDetections detect_picture_with_small_faces(const LoadedDetector& detector, const data::RgbImage& image,
                                                const std::string& name, const SmallFacePass& pass) {
  ImageDetections base = detect_picture(detector, image, name);
  const data::PipelineOptions pipeline = inference_pipeline(detector.settings);
  const std::vector<SmallFaceLevel> levels = small_face_levels(pass, pipeline, image.size());
  if (levels.empty()) return base;
  std::vector<ImageDetections> found;
  const int canvas = inference_canvas(pipeline, detector.canvas);
  for (const data::Batch& batch : small_face_batches({image, {}, image.size(), name, 0}, pipeline, levels, canvas))
    found.push_back(detect(*detector.model, batch, detector.device, detector.flip_test)[0]);
  return merge_small_faces(std::move(base), found, levels);
}

}  // namespace maskdet::app
