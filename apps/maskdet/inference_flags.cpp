// The inference flags (inference_flags.h).
#include "apps/maskdet/inference_flags.h"

#include <cstdio>

namespace maskdet::app {

void InferenceFlags::bind(cli::Flags& flags) {
  flags.add("--image-min-side", image_min_side, "PX", "resize so the shorter side is this long (default: the model's)");
  flags.add("--image-max-side", image_max_side, "PX", "...unless the longer side would exceed this");
  flags.add("--canvas", canvas, "PX",
            "pad each image at the bottom and right to at least PX x PX, as training's batches of portrait and "
            "landscape photos padded it, so that it scores the same alone as in a batch; 0: --image-max-side "
            "rounded up to 32; 32: to multiples of 32 only, the fastest");
  flags.add("--min-face", min_face, "PX",
            "find faces from this side in the photo: an image the model's input size shrinks too far for them also "
            "runs enlarged, at ten to twenty times the cost of the first pass alone; 0: the first pass "
            "only");
  flags.add_switch("--flip-test", flip_test,
                   "test-time augmentation: each picture also goes through mirrored, and the detections of both "
                   "passes are merged by NMS (twice the model's time)");
}

void InferenceFlags::check(const std::string& command) const {
  if (!(min_face >= 0)) throw cli::UsageError("maskdet " + command + ": --min-face must be >= 0 px");
  if (canvas < 0) throw cli::UsageError("maskdet " + command + ": --canvas must be >= 0 px");
}

SmallFacePass InferenceFlags::apply(LoadedDetector& detector) const {
  override_inference_size(detector.settings, image_min_side, image_max_side);
  detector.flip_test = flip_test;
  detector.canvas = canvas;
  return small_face_pass(detector.settings, min_face);
}

std::string describe_small_face_pass(const SmallFacePass& pass) {
  if (!pass.enabled()) return "small-face pass: off (--min-face 0), the first pass only";
  char line[256];
  std::snprintf(line, sizeof line,
                "small-face pass: faces from %g px, by enlarged views of the pictures the model's input size "
                "shrinks too far for them (--min-face 0: the first pass only, ten to twenty times faster)",
                pass.min_face);
  return line;
}

}  // namespace maskdet::app
