// A drawn stand-in for the face-mask data set, so a small detector can be trained and tested
// on a CPU without the photographs: each image holds 1-3 cartoon faces (skin-coloured ellipses
// with eyes, hair and a nose) on a random background with distractor shapes; a "mask" face
// has a coloured band with ear straps over its lower half, a "noMask" face shows its mouth.
// Classes are ordered as the real data set's sorted names: 0 "mask", 1 "noMask".
// Image i of a set depends only on (seed, i), never on the images drawn before it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "apps/data/sample_source.h"
#include "tensor/generator.h"

namespace maskdet::data {

struct SyntheticOptions {
  int width = 320;
  int height = 240;
  int min_faces = 1;
  int max_faces = 3;
  double min_face_fraction = 0.18;  // face width over the image's shorter side
  double max_face_fraction = 0.45;
};

const std::vector<std::string>& synthetic_classes();

struct SyntheticImage {
  RgbImage image;
  std::vector<BoxAnnotation> boxes;  // the faces' enclosing boxes
};

SyntheticImage draw_synthetic_image(const SyntheticOptions& options, Generator& gen);

// Image `index` of the set named by `seed`.
SyntheticImage synthetic_image(const SyntheticOptions& options, uint64_t seed, size_t index);

// `count` synthetic images drawn on demand.
class SyntheticSource : public SampleSource {
 public:
  SyntheticSource(size_t count, uint64_t seed, SyntheticOptions options = {})
      : count_(count), seed_(seed), options_(options) {}
  size_t size() const override { return count_; }
  const std::vector<std::string>& classes() const override { return synthetic_classes(); }
  Sample load(size_t index) const override;
  std::string describe(size_t index) const override { return "synthetic image " + std::to_string(index); }

 private:
  size_t count_;
  uint64_t seed_;
  SyntheticOptions options_;
};

}  // namespace maskdet::data
