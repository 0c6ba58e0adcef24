// The flags `evaluate`, `detect` and `serve` share for how pictures go into the model:
// --image-min-side and --image-max-side (the snapshot's inference size unless given),
// --canvas (the square each image is padded to, detector.h), --min-face (the small-face pass,
// small_face_pass.h) and --flip-test (detect()'s test-time flip, detector.h).
#pragma once
#include <string>

#include "apps/cli/flags.h"
#include "apps/maskdet/detector.h"
#include "apps/maskdet/small_face_pass.h"
#include "apps/maskdet/train_settings.h"

namespace maskdet::app {

constexpr double kDefaultMinFace = 16;

struct InferenceFlags {
  double image_min_side = 0, image_max_side = 0;  // 0: the snapshot's inference size
  // px in the photo; 0: no small-face pass. The pass is on by default, as the first pass alone
  // finds no face under about 40 px in a 1000 px photo; it multiplies the cost of a photo by ten
  // to twenty (docs/RESULTS.md, "Faces of every size").
  double min_face = kDefaultMinFace;
  bool flip_test = false;
  int canvas = 0;  // px; 0: the model's (inference_canvas, detector.h)

  void bind(cli::Flags& flags);
  // After parsing: cli::UsageError("maskdet <command>: ...") for a value out of range.
  void check(const std::string& command) const;
  // A loaded detector takes the sizes given and the flip; returns the small-face pass for them.
  SmallFacePass apply(LoadedDetector& detector) const;
};

// The line `detect` and `serve` print about the small-face pass, so that its cost is no surprise.
std::string describe_small_face_pass(const SmallFacePass& pass);

}  // namespace maskdet::app
