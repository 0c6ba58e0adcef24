// A generated two-class image set for the first end-to-end proof: each 1x16x16 image holds
// either a hollow square (class 0) or a filled disk (class 1) of random size and position,
// on a noisy background. Nothing is read from disk, so the demo runs anywhere.
#pragma once
#include <cstdint>

#include "tensor/generator.h"
#include "tensor/tensor.h"

namespace maskdet::demo {

constexpr int64_t kShapeImageSize = 16;

struct ShapeBatch {
  Tensor images;  // (N, 1, 16, 16) float32, roughly zero-mean
  Tensor labels;  // (N, 1) float32, 0 = square, 1 = disk
};

// Draws n images with labels alternating 0/1 from `gen`.
ShapeBatch make_shape_batch(int64_t n, Generator& gen);

}  // namespace maskdet::demo
