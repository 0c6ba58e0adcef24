// The training augmentation behind --random-transform: each step drawn from the sample's own
// Generator, in a fixed order so a (seed, epoch, sample) triple always gives the same result:
//   horizontal flip (faces have no preferred side); vertical flip off by default (faces are
//   upright in the data and in use); a random crop that keeps every box at least partly; a
//   small rotation with translation; brightness/contrast/saturation jitter; and a scale
//   jitter factor that multiplies the resize step's min_side and max_side (multi-scale
//   training, as torchvision's detection transform does by drawing min_size from a set); and a
//   "zoom out" that places the image on a canvas up to zoom_out_max_ratio times its size, so the
//   model also sees the faces small (off by default: zoom_out_probability 0).
#pragma once
#include "apps/data/color_jitter.h"
#include "apps/data/geometric_transforms.h"

namespace maskdet::data {

struct RandomTransformOptions {
  double horizontal_flip_probability = 0.5;
  double vertical_flip_probability = 0.0;
  double crop_probability = 0.5;
  double crop_min_fraction = 0.6;  // of each side
  double rotate_probability = 0.5;
  double max_rotation_degrees = 5.0;
  double max_translation_fraction = 0.05;  // of each side
  double brightness = 0.2;  // factors drawn from [1 - x, 1 + x]
  double contrast = 0.2;
  double saturation = 0.2;
  double scale_jitter_min = 0.8;
  double scale_jitter_max = 1.2;
  double zoom_out_probability = 0.0;
  double zoom_out_max_ratio = 3.0;  // canvas side / image side, drawn from [1, this]
  BoxKeepRule keep;
};

// Augments `sample` in place and returns the scale jitter factor for the resize step.
double apply_random_transform(Sample& sample, const RandomTransformOptions& options, Generator& gen);

}  // namespace maskdet::data
