// Saving the figures of apps/eval (training curves, precision-recall) as compressed PNG files.
// apps/eval's own encoder stores pixels uncompressed so that it needs no zlib; the programs
// here link OpenCV anyway, whose encoder makes the same picture several times smaller, which
// matters for figures kept in the repository (docs/results/).
#pragma once
#include <string>

#include "apps/eval/rgb_image.h"

namespace maskdet::app {

// Written atomically (tensor/atomic_file.h); throws maskdet::Error naming the file.
void save_png(const std::string& path, const eval::RgbImage& image);

}  // namespace maskdet::app
