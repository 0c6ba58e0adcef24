// The flags `evaluate`, `detect` and `serve` share for the size pictures go into the model at:
// --image-min-side and --image-max-side (the snapshot's inference size unless given) and
// --min-face (the small-face pass, small_face_pass.h).
#pragma once
#include <string>

#include "apps/cli/flags.h"
#include "apps/maskdet/small_face_pass.h"
#include "apps/maskdet/train_settings.h"

namespace maskdet::app {

struct InferenceSizeFlags {
  double image_min_side = 0, image_max_side = 0;  // 0: the snapshot's inference size
  double min_face = 0;                            // px in the photo; 0: no small-face pass

  void bind(cli::Flags& flags);
  // After parsing: cli::UsageError("maskdet <command>: ...") for a value out of range.
  void check(const std::string& command) const;
  // A loaded detector's settings take the sizes given; returns the small-face pass for them.
  SmallFacePass apply(TrainSettings& settings) const;
};

}  // namespace maskdet::app
