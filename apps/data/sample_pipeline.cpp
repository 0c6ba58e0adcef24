// Augment, resize, normalise (sample_pipeline.h).
#include "apps/data/sample_pipeline.h"

#include <algorithm>
#include <cmath>

#include "apps/data/normalize.h"
#include "apps/data/resize.h"
#include "apps/data/seed_derivation.h"

namespace maskdet::data {

PreparedSample prepare_sample(Sample sample, const PipelineOptions& options, Generator& gen) {
  MASKDET_CHECK(!sample.image.empty(), "the image is empty");
  const double scale = options.random_transform ? apply_random_transform(sample, options.augment, gen) : 1.0;
  const PixelSize from = sample.image.size();
  PixelSize to;
  if (options.scale > 0) {
    // Of the file's size: a prepared cache may hold the image shrunk.
    const PixelSize file = sample.original_size.width > 0 ? sample.original_size : from;
    to = {std::max(1, static_cast<int>(std::lround(file.height * options.scale * scale))),
          std::max(1, static_cast<int>(std::lround(file.width * options.scale * scale)))};
  } else {
    to = resized_size(from, options.min_side * scale, options.max_side * scale);
  }
  PreparedSample out;
  out.pixels = resize_to_planar(sample.image, to);
  normalize_planar(out.pixels);
  out.size = to;
  scale_boxes(sample.boxes, from, to);
  out.boxes = std::move(sample.boxes);
  out.original_size = sample.original_size.width > 0 ? sample.original_size : from;
  out.scale_x = static_cast<float>(to.width) / static_cast<float>(out.original_size.width);
  out.scale_y = static_cast<float>(to.height) / static_cast<float>(out.original_size.height);
  out.index = sample.index;
  out.image_path = std::move(sample.image_path);
  return out;
}

PreparedSample prepare_sample(const SampleSource& source, size_t index, const PipelineOptions& options,
                              uint64_t seed, uint64_t epoch) {
  try {
    Sample sample = source.load(index);
    sample.index = index;
    Generator gen(derive_seed(seed, {epoch, index}));
    return prepare_sample(std::move(sample), options, gen);
  } catch (const std::exception& e) {
    throw Error("sample " + std::to_string(index) + " (" + source.describe(index) + "): " + e.what());
  }
}

}  // namespace maskdet::data
