// Input normalisation for backbones trained by torchvision on ImageNet: RGB scaled to [0, 1],
// then (x - mean) / std per channel with the constants of torchvision's ImageNet weights and
// its detection transform (GeneralizedRCNNTransform's image_mean / image_std).
#pragma once
#include <vector>

namespace maskdet::data {

inline constexpr float kImageNetMean[3] = {0.485f, 0.456f, 0.406f};
inline constexpr float kImageNetStd[3] = {0.229f, 0.224f, 0.225f};

// The 8-bit colour that normalises to (about) zero: what geometric transforms fill uncovered
// pixels with, so they look like the batch padding.
inline constexpr unsigned char kImageNetMeanRgb[3] = {124, 116, 104};

// planar: (3, H, W) values in [0, 255], normalised in place.
void normalize_planar(std::vector<float>& planar);

}  // namespace maskdet::data
