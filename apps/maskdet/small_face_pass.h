// The small-face pass of inference: a second forward of the image enlarged so that the smallest
// faces asked for (--min-face PX of the photo; off by default) reach the size the model resolves,
// merged with the pass at the model's own input size. The first pass alone shrinks a 1000 px
// photo to 256-384 px, where a 16 px face is 6 px and far under the smallest anchor (32 px at P3
// with torchvision's anchors); training on larger images would cost every step to see what a
// test-time enlargement sees (the multi-scale testing of face detectors such as S3FD, with
// SNIP's rule that each scale answers only for the object sizes it resolves).
#pragma once
#include <optional>

#include "apps/data/batch.h"
#include "apps/data/rgb_image.h"
#include "apps/data/sample_pipeline.h"
#include "apps/maskdet/detector.h"
#include "apps/maskdet/train_settings.h"

namespace maskdet::app {

struct SmallFacePass {
  double min_face = 0;       // side in the original image's pixels; 0: no pass
  double resolved_side = 0;  // the face side, in input pixels, the enlargement brings min_face to
  bool enabled() const { return min_face > 0; }
};

// The pass for a detector trained with `settings`: min_face is enlarged to 1.5 times the smallest
// anchor (48 px with torchvision's anchors). A face the size of the smallest anchor already
// matches it, but the face-mask photos train few faces that small, and the detector finds them
// much less often than faces a little larger: on mosaics of shrunk validation photos
// (docs/RESULTS.md, "Faces of every size") recall rose steeply up to about 1.5 anchors.
SmallFacePass small_face_pass(const TrainSettings& settings, double min_face);

// The enlargement of an image of `original` size the pass needs (min_face maps to resolved_side),
// or 0 when the first pass at `base` already resolves min_face. The enlarged image is kept under
// kMaxSmallFacePixels, so in a very large photo the pass reaches a little less far.
constexpr double kMaxSmallFacePixels = 4e6;
double small_face_scale(const SmallFacePass& pass, const data::PipelineOptions& base, data::PixelSize original);

// `sample` enlarged for the pass, as a batch of one, or nothing when it needs no pass.
std::optional<data::Batch> small_face_batch(data::Sample sample, const data::PipelineOptions& base,
                                            const SmallFacePass& pass);

// The first pass's detections with the small-face pass's for faces the first pass resolves
// poorly (under resolved_side at its scale; larger, the enlarged pass sees skin and
// cloth without their context and finds faces in them) and that do not lie mostly (over half their
// area) inside a first-pass detection scoring at least as high; then one NMS per class over both
// (IoU 0.5, batched_nms), by descending score, at most max_detections. base_scale: the first
// pass's input / original.
ImageDetections merge_small_faces(ImageDetections base, const ImageDetections& small, const SmallFacePass& pass,
                                  double base_scale, size_t max_detections = 300);

// detect_picture with the pass when the picture needs it.
ImageDetections detect_picture_with_small_faces(const LoadedDetector& detector, const data::RgbImage& image,
                                                const std::string& name, const SmallFacePass& pass);

}  // namespace maskdet::app
