// Reading, renumbering and splitting data sets (data_sets.h).
#include "apps/maskdet/data_sets.h"

#include <algorithm>
#include <cmath>
#include <iostream>

#include "apps/data/random_transform.h"
#include "apps/data_io/load_dataset.h"
#include "apps/maskdet/dataset_split.h"
#include "apps/maskdet/image_source.h"

namespace maskdet::app {

data::Dataset read_data_set(const std::string& path, const std::string& classes_file,
                            const std::vector<std::string>& classes, bool skip_bad) {
  data::LoadOptions options;
  options.skip_bad = skip_bad;
  // Every image decoded now, so that a bad one is named (and --skip-bad leaves it out) before
  // training starts rather than ending the run at the step that first meets it.
  options.check_images = data::ImageCheck::Decodes;
  data::Dataset dataset = data::load_dataset(path, classes_file, options);
  MASKDET_CHECK(!dataset.images.empty(), "data set ", path, " holds no images");
  if (classes.empty() || classes == dataset.classes) return dataset;
  std::vector<int> new_id(dataset.classes.size(), -1);
  for (size_t c = 0; c < dataset.classes.size(); ++c)
    for (size_t k = 0; k < classes.size(); ++k)
      if (classes[k] == dataset.classes[c]) new_id[c] = static_cast<int>(k);
  for (auto& image : dataset.images)
    for (auto& box : image.boxes) {
      const int id = new_id[static_cast<size_t>(box.class_id)];
      MASKDET_CHECK(id >= 0, "data set ", path, ": ", image.image_path, " has a box of class '",
                    dataset.classes[static_cast<size_t>(box.class_id)], "', which the model does not know");
      box.class_id = id;
    }
  dataset.classes = classes;
  return dataset;
}

int needed_max_side(const TrainSettings& s) {
  const double jitter = s.random_transform ? augmentation(s).scale_jitter_max : 1.0;
  // The validation after each epoch reads the same cache at the inference size.
  return static_cast<int>(std::ceil(std::max(s.image_max_side * jitter, inference_pipeline(s).max_side)));
}

TrainingData load_training_data(const TrainSettings& s, const std::vector<std::string>& classes) {
  MASKDET_CHECK(!s.data.empty(), "no training data: pass --data PATH");
  const data::Dataset all = read_data_set(s.data, s.classes_file, classes, s.skip_bad);
  const int max_side = needed_max_side(s);
  const auto source = open_image_source(all, s.cache, max_side, std::max(s.workers, 1));
  TrainingData out;
  if (!s.val_annotations.empty()) {
    out.train = all;
    out.train_source = source;
    out.validation = read_data_set(s.val_annotations, s.classes_file, all.classes, s.skip_bad);
    out.validation_source = open_image_source(out.validation, s.cache.empty() ? "" : s.cache + ".val", max_side,
                                              std::max(s.workers, 1));
    return out;
  }
  const DatasetSplit split = split_dataset(all.images.size(), s.val_fraction, s.seed);
  out.train = subset(all, split.train);
  out.train_source = std::make_shared<SubsetSource>(source, split.train);
  if (!split.validation.empty()) {
    out.validation = subset(all, split.validation);
    out.validation_source = std::make_shared<SubsetSource>(source, split.validation);
  }
  return out;
}

}  // namespace maskdet::app
