// What a sample goes through between its source and the batch: the random augmentation when
// asked, the min/max-side resize (resize.h) and ImageNet normalisation (normalize.h). The
// randomness of sample i in epoch e comes from Generator(derive_seed(seed, {e, i})), so the
// result is the same whichever thread makes it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "apps/data/random_transform.h"
#include "apps/data/sample_source.h"

namespace maskdet::data {

struct PipelineOptions {
  double min_side = 800;  // torchvision's RetinaNet defaults
  double max_side = 1333;
  // > 0: resize to exactly this factor of the image file's size instead (min_side and max_side
  // unused), as inference's small-face pass asks.
  double scale = 0;
  bool random_transform = false;
  RandomTransformOptions augment;
};

// A sample ready to be batched.
struct PreparedSample {
  std::vector<float> pixels;  // (3, H, W) normalised
  PixelSize size;             // H, W
  std::vector<BoxAnnotation> boxes;  // in the resized image's pixels
  PixelSize original_size;
  // resized / original per axis: a detection's x divided by scale_x is in the image file's
  // pixels (exact without augmentation; with it, only the resize is undone).
  float scale_x = 1, scale_y = 1;
  size_t index = 0;
  std::string image_path;
};

// `gen` is used only when options.random_transform.
PreparedSample prepare_sample(Sample sample, const PipelineOptions& options, Generator& gen);

// Loads sample `index` of `source` and prepares it with its own generator. Errors are rethrown
// as maskdet::Error naming the sample: "sample 12 (images/12.jpg): ...".
PreparedSample prepare_sample(const SampleSource& source, size_t index, const PipelineOptions& options,
                              uint64_t seed, uint64_t epoch);

}  // namespace maskdet::data
