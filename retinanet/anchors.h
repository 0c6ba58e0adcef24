// Anchor boxes for RetinaNet (Lin et al. 2017, "Focal Loss for Dense Object Detection", sec. 4):
// on each pyramid level, A = len(sizes) * len(ratios) boxes per feature-map cell. The layout
// follows torchvision's AnchorGenerator so outputs line up with its RetinaNet: cell anchors are
// ratio-major, scale-minor, centred on 0 and rounded to whole pixels; a level's anchors are the
// cell anchors shifted to (x * stride_w, y * stride_h), cells in row-major order, and the levels
// are concatenated P3 first.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace maskdet {

struct AnchorConfig {
  // sizes[level] = anchor side lengths (sqrt of the area) on that level.
  std::vector<std::vector<double>> sizes;
  // aspect_ratios[level] = height / width ratios on that level.
  std::vector<std::vector<double>> aspect_ratios;

  // Sizes 32..512 on P3..P7, scales 2^0, 2^(1/3), 2^(2/3), ratios 0.5, 1, 2 (A = 9).
  static AnchorConfig retinanet();
  // The same scales and ratios around other base sizes, one per level (e.g. 16..256 for faces
  // of 16 px and more).
  static AnchorConfig retinanet(const std::vector<double>& base_sizes);
  int64_t anchors_per_cell(size_t level) const { return static_cast<int64_t>(sizes[level].size() * aspect_ratios[level].size()); }
};

struct FeatureSize {
  int64_t height, width;
};

// The A anchors of one cell centred at the origin, (A, 4) float64, rounded as torchvision does.
Tensor cell_anchors(const std::vector<double>& sizes, const std::vector<double>& aspect_ratios);

// All anchors for an image of (image_height, image_width) with the given feature-map sizes,
// one per level: (sum over levels of H * W * A, 4) float32. The stride of a level is
// image_size / feature_size in whole pixels (integer division, as torchvision).
Tensor generate_anchors(const AnchorConfig& config, int64_t image_height, int64_t image_width,
                        const std::vector<FeatureSize>& feature_sizes);

}  // namespace maskdet
