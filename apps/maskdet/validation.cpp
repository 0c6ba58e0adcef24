// Running and scoring a detector on an annotated set (validation.h).
#include "apps/maskdet/validation.h"

#include <chrono>

#include "apps/data/data_loader.h"

namespace maskdet::app {

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
  data::DataLoader loader(source, loader_options);

  ValidationRun run;
  run.detections.resize(source->size());
  std::vector<eval::ImageAnnotations> images(source->size());
  double model_seconds = 0;
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<ImageDetections> found = detect(model, *batch, options.device);
    model_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (size_t i = 0; i < batch->size(); ++i) run.detections[batch->indices[i]] = std::move(found[i]);
  }
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
  if (!images.empty()) run.result.seconds_per_image = model_seconds / static_cast<double>(images.size());
  model.train(was_training);
  return run;
}

}  // namespace maskdet::app
