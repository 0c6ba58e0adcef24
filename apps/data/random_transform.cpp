// The composed training augmentation (random_transform.h). Every draw happens whether or not
// its step applies, so switching one step off does not reshuffle the others' randomness.
#include "apps/data/random_transform.h"

#include <algorithm>
#include <cmath>

namespace maskdet::data {

namespace {
double between(Generator& gen, double lo, double hi) { return lo + (hi - lo) * gen.uniform(); }
}  // namespace

double apply_random_transform(Sample& sample, const RandomTransformOptions& o, Generator& gen) {
  const bool flip_h = gen.uniform() < o.horizontal_flip_probability;
  const bool flip_v = gen.uniform() < o.vertical_flip_probability;
  const bool do_crop = gen.uniform() < o.crop_probability;
  Generator crop_gen(gen.next_u64());
  const bool do_rotate = gen.uniform() < o.rotate_probability;
  const double degrees = between(gen, -o.max_rotation_degrees, o.max_rotation_degrees);
  const double tx = between(gen, -o.max_translation_fraction, o.max_translation_fraction);
  const double ty = between(gen, -o.max_translation_fraction, o.max_translation_fraction);
  ColorFactors colors;
  colors.brightness = static_cast<float>(between(gen, 1 - o.brightness, 1 + o.brightness));
  colors.contrast = static_cast<float>(between(gen, 1 - o.contrast, 1 + o.contrast));
  colors.saturation = static_cast<float>(between(gen, 1 - o.saturation, 1 + o.saturation));
  const double scale = between(gen, o.scale_jitter_min, o.scale_jitter_max);
  // Drawn last, so the streams of the steps above are those of runs without it.
  const bool zoom_out = gen.uniform() < o.zoom_out_probability;
  const double zoom_ratio = between(gen, 1.0, std::max(1.0, o.zoom_out_max_ratio));
  const double zoom_x = gen.uniform(), zoom_y = gen.uniform();

  if (flip_h) flip_horizontal(sample);
  if (flip_v) flip_vertical(sample);
  if (do_crop) crop(sample, random_crop_rect(sample, o.crop_min_fraction, crop_gen), o.keep);
  if (zoom_out && zoom_ratio > 1) {
    const PixelSize canvas{static_cast<int>(std::lround(sample.image.height * zoom_ratio)),
                           static_cast<int>(std::lround(sample.image.width * zoom_ratio))};
    place_on_canvas(sample, canvas, static_cast<int>(zoom_x * (canvas.width - sample.image.width)),
                    static_cast<int>(zoom_y * (canvas.height - sample.image.height)));
  }
  if (do_rotate)
    rotate_translate(sample, degrees, tx * sample.image.width, ty * sample.image.height, o.keep);
  adjust_colors(sample.image, colors);
  return scale;
}

}  // namespace maskdet::data
