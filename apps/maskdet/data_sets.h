// How the commands read their data: `--data PATH [--classes FILE]` through load_dataset
// (VOC folder, devkit or keras-retinanet CSV), with the class ids renumbered to a model's class
// list when there is one (a validation set that lacks a class, or lists them in another order,
// still lines up with the model's outputs), and training's split into the images it learns from
// and the images it is validated on.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "apps/data/annotations.h"
#include "apps/data/sample_source.h"
#include "apps/maskdet/train_settings.h"

namespace maskdet::app {

// classes empty: the data's own. Otherwise every box's class must be in `classes` and its id is
// renumbered to that list (throws naming the unknown class). Every image is decoded (an image
// that does not decode is bad input, skipped with skip_bad).
data::Dataset read_data_set(const std::string& path, const std::string& classes_file,
                            const std::vector<std::string>& classes, bool skip_bad);

struct TrainingData {
  data::Dataset train;       // annotations of the images trained on
  data::Dataset validation;  // empty when there is no validation
  std::shared_ptr<const data::SampleSource> train_source, validation_source;  // null when empty
};

// classes: the resumed snapshot's, or empty for a new run. The prepared cache (--cache) holds
// the whole --data set; --val-annotations images are read from their files (or their own cache,
// "<cache>.val").
TrainingData load_training_data(const TrainSettings& settings, const std::vector<std::string>& classes);

// The longest side the data pipeline may ask of a stored image: the resize's max side, scaled
// up by the augmentation's largest scale jitter when it is on.
int needed_max_side(const TrainSettings& settings);

}  // namespace maskdet::app
