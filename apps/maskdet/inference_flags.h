// The flags `evaluate`, `detect` and `serve` share for how pictures go into the model:
// --image-min-side and --image-max-side (the snapshot's inference size unless given),
// --min-face (the small-face pass, small_face_pass.h) and --flip-test (detect()'s test-time
// flip, detector.h).
#pragma once
#include <string>

#include "apps/cli/flags.h"
#include "apps/maskdet/detector.h"
#include "apps/maskdet/small_face_pass.h"
#include "apps/maskdet/train_settings.h"

namespace maskdet::app {

struct InferenceFlags {
  double image_min_side = 0, image_max_side = 0;  // 0: the snapshot's inference size
  double min_face = 0;                            // px in the photo; 0: no small-face pass
  bool flip_test = false;

  void bind(cli::Flags& flags);
  // After parsing: cli::UsageError("maskdet <command>: ...") for a value out of range.
  void check(const std::string& command) const;
  // A loaded detector takes the sizes given and the flip; returns the small-face pass for them.
  SmallFacePass apply(LoadedDetector& detector) const;
};

}  // namespace maskdet::app
