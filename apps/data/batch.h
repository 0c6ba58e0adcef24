// Batching images of different sizes, as torchvision's GeneralizedRCNNTransform.batch_images
// does: each image is copied into the top-left corner of a zero tensor whose height and width
// are the batch's largest, rounded up to a multiple of 32 (the stride of the coarsest feature
// map a ResNet + FPN backbone divides cleanly); zero is the mean colour after normalisation.
// Each image keeps its own extent, boxes and the sizes needed to map detections back.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "apps/data/sample_pipeline.h"
#include "tensor/tensor.h"

namespace maskdet::data {

struct Batch {
  Tensor images;               // (N, 3, H, W) float32
  std::vector<Tensor> boxes;   // per image: (M, 4) float32 x1, y1, x2, y2 in its resized pixels
  std::vector<Tensor> labels;  // per image: (M) int64 class ids
  std::vector<std::vector<bool>> difficult;  // per image and box
  std::vector<PixelSize> image_sizes;        // the part of `images` each image fills
  std::vector<PixelSize> original_sizes;     // of the image files
  std::vector<float> scales_x, scales_y;     // resized / original (PreparedSample)
  std::vector<size_t> indices;               // in the source
  std::vector<std::string> image_paths;

  size_t size() const { return indices.size(); }
};

// The multiple a batch's H and W are rounded up to by default: the stride of C5, so that every
// pyramid level's cells line up with the image's.
constexpr int kSizeDivisible = 32;

// size_divisible: the multiple H and W are rounded up to. canvas > 0: H and W at least that, the
// images padded at the bottom and right (inference's square canvas, apps/maskdet/detector.h).
Batch collate(const std::vector<PreparedSample>& samples, int size_divisible = kSizeDivisible, int canvas = 0);

// The batch's images zero-padded at the bottom and right to height x width (each at least the
// batch's own): a rank of a data-parallel run pads its shard to the whole global batch's size,
// because the padded size decides the anchors and so the loss.
void pad_batch(Batch& batch, int64_t height, int64_t width);

}  // namespace maskdet::data
