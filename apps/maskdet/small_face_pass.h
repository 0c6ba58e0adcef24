// The small-face pass of inference: a second forward of the image enlarged so that the smallest
// faces asked for (--min-face PX of the photo; off by default) reach the size the model resolves,
// merged with the pass at the model's own input size. The first pass alone shrinks a 1000 px
// photo to 256-384 px, where a 16 px face is 6 px and far under the smallest anchor (32 px at P3
// with torchvision's anchors); training on larger images would cost every step to see what a
// test-time enlargement sees (the multi-scale testing of face detectors such as S3FD, with
// SNIP's rule that each scale answers only for the object sizes it resolves).
#pragma once
#include <vector>

#include "apps/data/batch.h"
#include "apps/data/rgb_image.h"
#include "apps/data/sample_pipeline.h"
#include "apps/maskdet/detector.h"
#include "apps/maskdet/train_settings.h"

namespace maskdet::app {

struct SmallFacePass {
  double min_face = 0;       // side in the original image's pixels; 0: no pass
  double resolved_side = 0;  // the face side, in input pixels, the enlargement brings min_face to
  double level_ratio = 3;    // between the enlarged views' scales
  bool enabled() const { return min_face > 0; }
};

// The pass for a detector trained with `settings`: min_face is enlarged to 1.5 times the smallest
// anchor (48 px with torchvision's anchors). A face the size of the smallest anchor already
// matches it, but the face-mask photos train few faces that small, and the detector finds them
// much less often than faces a little larger: on mosaics of shrunk validation photos
// (docs/RESULTS.md, "Faces of every size") recall rose steeply up to about 1.5 anchors.
SmallFacePass small_face_pass(const TrainSettings& settings, double min_face);

// One enlarged view of the image, and the faces it answers for: sides in [min_side, max_side)
// of the original image's pixels.
struct SmallFaceLevel {
  double scale = 0;  // input / original
  double min_side = 0, max_side = 0;
};

// The enlarged views an image of `original` size needs, largest first; none when the first pass
// at `base` already resolves min_face. The largest brings min_face to resolved_side (kept under
// kMaxSmallFacePixels, so in a very large photo the pass reaches a little less far); each next is
// level_ratio times smaller, down to the first pass's scale. Each view answers only for faces it
// sees between resolved_side and level_ratio times that, 48-144 px with torchvision's anchors (the
// largest view also for smaller ones), and none for a face the first pass sees at resolved_side or
// more: SNIP's valid ranges. The face-mask photos train faces of 64-187 px in the quick run's input
// (10th to 75th percentile); seen far larger than that, at one enlargement for every size, the
// quick model found faces in a face's eyes, in skin and in cloth (docs/RESULTS.md). The smaller
// views cost 1 / (level_ratio^2 - 1) of the largest's pixels.
constexpr double kMaxSmallFacePixels = 4e6;
std::vector<SmallFaceLevel> small_face_levels(const SmallFacePass& pass, const data::PipelineOptions& base,
                                              data::PixelSize original);

// `sample` at each of its levels, as batches of one (the same order) on at least the first
// pass's canvas (inference_canvas, detector.h); none when it needs no pass.
std::vector<data::Batch> small_face_batches(const data::Sample& sample, const data::PipelineOptions& base,
                                            const std::vector<SmallFaceLevel>& levels, int canvas = 0);

// The first pass's detections with each level's for the faces it answers for, that do not lie
// mostly (over half their area) inside a detection of the first pass or of a smaller level that
// scores at least as high: enlarged, a large face's eyes or mouth can look like a small face, but
// no face lies inside another. Then one NMS per class over all (IoU 0.5, batched_nms), by
// descending score, at most max_detections. `levels` and `found` in the same order.
ImageDetections merge_small_faces(ImageDetections base, const std::vector<ImageDetections>& found,
                                  const std::vector<SmallFaceLevel>& levels, size_t max_detections = 300);

// detect_picture with the pass when the picture needs it.
ImageDetections detect_picture_with_small_faces(const LoadedDetector& detector, const data::RgbImage& image,
                                                const std::string& name, const SmallFacePass& pass);

}  // namespace maskdet::app
