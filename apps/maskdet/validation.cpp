// Running and scoring a detector on an annotated set (validation.h).
#include "apps/maskdet/validation.h"

#include <chrono>

#include "apps/data/batch.h"
#include "apps/data/data_loader.h"
#include "apps/data/resize.h"
#include "apps/maskdet/dataset_split.h"

namespace maskdet::app {

namespace {

// Every rank's detections on every rank: each box as (image, x1, y1, x2, y2, score, class) in
// doubles (exact for the floats and ids), placed at its rank's offset of a zeroed buffer and
// summed, which adds nothing but zeros to any value.
void gather_detections(dist::ProcessGroup& group, std::vector<ImageDetections>& detections,
                       const std::vector<size_t>& mine) {
  constexpr size_t kFields = 7;
  std::vector<double> local;
  for (const size_t image : mine)
    for (const DetectedBox& d : detections[image])
      local.insert(local.end(), {static_cast<double>(image), d.x1, d.y1, d.x2, d.y2, d.score,
                                 static_cast<double>(d.class_id)});
  const std::vector<uint64_t> counts = group.all_gather(static_cast<uint64_t>(local.size()), "validation detection counts");
  size_t offset = 0, total = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    if (static_cast<int>(r) < group.rank()) offset += counts[r];
    total += counts[r];
  }
  std::vector<double> all(total, 0.0);
  std::copy(local.begin(), local.end(), all.begin() + static_cast<long>(offset));
  group.all_reduce_sum(all.data(), all.size(), "validation detections");
  for (auto& d : detections) d.clear();
  for (size_t at = 0; at + kFields <= all.size(); at += kFields) {
    const double* f = all.data() + at;
    detections[static_cast<size_t>(f[0])].push_back({static_cast<float>(f[1]), static_cast<float>(f[2]),
                                                     static_cast<float>(f[3]), static_cast<float>(f[4]),
                                                     static_cast<float>(f[5]), static_cast<int>(f[6])});
  }
}

}  // namespace

ValidationRun validate(RetinaNet& model, std::shared_ptr<const data::SampleSource> source,
                       const data::Dataset& annotations, const ValidationOptions& options) {
  MASKDET_CHECK(source->size() == annotations.images.size(), "validate: ", source->size(), " samples for ",
                annotations.images.size(), " annotated images");
  const bool was_training = model.is_training();
  model.eval();
  data::LoaderOptions loader_options;
  loader_options.batch_size = options.batch_size;
  loader_options.workers = options.workers;
  loader_options.shuffle = false;
  loader_options.pipeline = options.pipeline;
  loader_options.canvas = inference_canvas(options.pipeline, options.canvas);
  // A rank's batches are batches of the single process: whole slices of its unshuffled order.
  const bool sharded = options.group && options.group->world_size() > 1;
  std::vector<size_t> mine;
  for (size_t i = 0; i < source->size(); ++i)
    if (!sharded || static_cast<int>((i / static_cast<size_t>(options.batch_size)) %
                                     static_cast<size_t>(options.group->world_size())) == options.group->rank())
      mine.push_back(i);
  data::DataLoader loader(std::make_shared<SubsetSource>(source, mine), loader_options);

  ValidationRun run;
  run.detections.resize(source->size());
  std::vector<eval::ImageAnnotations> images(source->size());
  double model_seconds = 0;
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<ImageDetections> found = detect(model, *batch, options.device, options.flip_test);
    model_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (size_t i = 0; i < batch->size(); ++i) run.detections[mine[batch->indices[i]]] = std::move(found[i]);
  }
  if (options.small_faces.enabled() && options.small_face_source) {
    for (const size_t i : mine) {
      const data::Sample sample = options.small_face_source->load(i);
      const data::PixelSize original = sample.original_size.width > 0 ? sample.original_size : sample.image.size();
      const std::vector<SmallFaceLevel> levels = small_face_levels(options.small_faces, options.pipeline, original);
      if (levels.empty()) continue;
      std::vector<ImageDetections> found;
      for (const data::Batch& batch : small_face_batches(sample, options.pipeline, levels, loader_options.canvas)) {
        const auto start = std::chrono::steady_clock::now();
        found.push_back(detect(model, batch, options.device, options.flip_test)[0]);
        model_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
      run.detections[i] = merge_small_faces(std::move(run.detections[i]), found, levels);
      ++run.small_face_images;
    }
  }
  if (sharded) gather_detections(*options.group, run.detections, mine);
  for (size_t i = 0; i < images.size(); ++i) {
    for (const auto& b : annotations.images[i].boxes)
      images[i].ground_truth.push_back({{b.x1, b.y1, b.x2, b.y2}, b.class_id, b.difficult});
    for (const auto& d : run.detections[i])
      images[i].detections.push_back({{d.x1, d.y1, d.x2, d.y2}, d.class_id, d.score});
  }
  eval::EvalOptions eval_options;
  eval_options.class_names = annotations.classes;
  eval_options.score_threshold = options.score_threshold;
  run.result = eval::evaluate_detections(images, eval_options);
  if (!mine.empty()) run.result.seconds_per_image = model_seconds / static_cast<double>(mine.size());
  model.train(was_training);
  return run;
}

}  // namespace maskdet::app
