// Resizing as torchvision's detection models do before the backbone
// (torchvision/models/detection/transform.py, GeneralizedRCNNTransform): the scale is
// min(min_side / shorter side, max_side / longer side), so the shorter side becomes min_side
// unless the longer one would pass max_side (the rule keras-retinanet's resize_image shares);
// each side becomes floor(side * scale), as torch.nn.functional.interpolate computes it;
// pixels are bilinear with half-pixel centres and no antialiasing (interpolate's
// mode="bilinear", align_corners=False); boxes are scaled by new size / old size per axis.
#pragma once
#include <vector>

#include "apps/data/annotations.h"
#include "apps/data/rgb_image.h"

namespace maskdet::data {

// The factor the min/max-side rule resizes `image` by: the shorter side to min_side, unless the
// longer would exceed max_side.
double resize_scale(PixelSize image, double min_side, double max_side);
// The size the min/max-side rule gives `image`.
PixelSize resized_size(PixelSize image, double min_side, double max_side);

// `image` shrunk so its longer side is at most max_side (unchanged when it already is).
PixelSize size_within(PixelSize image, int max_side);

// Bilinear resampling to `out`, as floats in [0, 255], planar (3, H, W): what normalisation
// consumes, without rounding to 8 bits in between.
std::vector<float> resize_to_planar(const RgbImage& image, PixelSize out);

// The same, rounded back to 8-bit interleaved pixels.
RgbImage resize_bilinear(const RgbImage& image, PixelSize out);

// Boxes of an image of size `from` moved onto the same image at size `to`.
void scale_boxes(std::vector<BoxAnnotation>& boxes, PixelSize from, PixelSize to);

}  // namespace maskdet::data
