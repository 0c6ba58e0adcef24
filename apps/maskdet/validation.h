// Scoring a detector on an annotated image set: every image run through the model without
// augmentation, its detections mapped back to the image file's pixels and compared with the
// annotations as written (apps/eval: VOC AP@0.5, COCO AP@[.5:.95], precision and recall at a
// score threshold). Training calls it after each epoch; `maskdet evaluate` prints and saves it.
#pragma once
#include <memory>
#include <vector>

#include "apps/data/annotations.h"
#include "apps/data/sample_pipeline.h"
#include "apps/data/sample_source.h"
#include "apps/dist/process_group.h"
#include "apps/eval/detection_eval.h"
#include "apps/maskdet/detector.h"
#include "apps/maskdet/small_face_pass.h"

namespace maskdet::app {

struct ValidationOptions {
  data::PipelineOptions pipeline;  // resize only
  int64_t batch_size = 4;
  int workers = 2;
  double score_threshold = 0.5;  // for precision and recall
  Device device = Device::cpu();
  bool flip_test = false;  // detect()'s test-time flip
  int canvas = 0;          // inference_canvas's `requested` (detector.h): 0, the pipeline's
  // Several ranks: each runs every world_size-th batch (the batches a single process would make)
  // and the detections are gathered, so every rank returns the single-process figures.
  dist::ProcessGroup* group = nullptr;
  // The small-face pass (small_face_pass.h) on each image that needs it, its pixels from
  // small_face_source (the image files at their own size, indexed as `source`); none without it.
  SmallFacePass small_faces;
  std::shared_ptr<const data::SampleSource> small_face_source;
};

struct ValidationRun {
  eval::EvalResult result;            // seconds_per_image: the model's time (forward + post-processing)
  std::vector<ImageDetections> detections;  // per image of `annotations`
  size_t small_face_images = 0;             // of this rank's, given the small-face pass
};

// source sample i must be the image annotations.images[i].
ValidationRun validate(RetinaNet& model, std::shared_ptr<const data::SampleSource> source,
                       const data::Dataset& annotations, const ValidationOptions& options);

}  // namespace maskdet::app
