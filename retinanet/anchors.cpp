#include "retinanet/anchors.h"

#include <cmath>

#include "tensor/creation.h"

namespace maskdet {

AnchorConfig AnchorConfig::retinanet() { return retinanet({32.0, 64.0, 128.0, 256.0, 512.0}); }

AnchorConfig AnchorConfig::retinanet(const std::vector<double>& base_sizes) {
  AnchorConfig c;
  for (double base : base_sizes) {
    MASKDET_CHECK(base > 0, "AnchorConfig: anchor sizes must be positive, got ", base);
    c.sizes.push_back({base, base * std::pow(2.0, 1.0 / 3.0), base * std::pow(2.0, 2.0 / 3.0)});
    c.aspect_ratios.push_back({0.5, 1.0, 2.0});
  }
  return c;
}

Tensor cell_anchors(const std::vector<double>& sizes, const std::vector<double>& aspect_ratios) {
  std::vector<double> v;
  for (double ratio : aspect_ratios) {
    const double h_ratio = std::sqrt(ratio), w_ratio = 1.0 / h_ratio;
    for (double size : sizes) {
      const double w = w_ratio * size, h = h_ratio * size;
      // torch.round rounds half to even, as std::nearbyint does in the default rounding mode.
      for (double c : {-w / 2, -h / 2, w / 2, h / 2}) v.push_back(std::nearbyint(c));
    }
  }
  return from_vector(v, {static_cast<int64_t>(v.size() / 4), 4}, {DType::Float64});
}

Tensor generate_anchors(const AnchorConfig& config, int64_t image_height, int64_t image_width,
                        const std::vector<FeatureSize>& feature_sizes) {
  MASKDET_CHECK(feature_sizes.size() == config.sizes.size() && config.sizes.size() == config.aspect_ratios.size(),
                "generate_anchors: ", feature_sizes.size(), " feature maps but anchor sizes for ", config.sizes.size(),
                " levels and aspect ratios for ", config.aspect_ratios.size());
  std::vector<float> all;
  for (size_t level = 0; level < feature_sizes.size(); ++level) {
    const auto [fh, fw] = feature_sizes[level];
    MASKDET_CHECK(fh > 0 && fw > 0, "generate_anchors: empty feature map ", fh, "x", fw, " on level ", level);
    const int64_t stride_h = image_height / fh, stride_w = image_width / fw;
    const std::vector<double> cell = cell_anchors(config.sizes[level], config.aspect_ratios[level]).to_vector<double>();
    const size_t a = cell.size() / 4;
    for (int64_t y = 0; y < fh; ++y) {
      for (int64_t x = 0; x < fw; ++x) {
        const double sx = static_cast<double>(x * stride_w), sy = static_cast<double>(y * stride_h);
        for (size_t k = 0; k < a; ++k) {
          all.push_back(static_cast<float>(cell[4 * k + 0] + sx));
          all.push_back(static_cast<float>(cell[4 * k + 1] + sy));
          all.push_back(static_cast<float>(cell[4 * k + 2] + sx));
          all.push_back(static_cast<float>(cell[4 * k + 3] + sy));
        }
      }
    }
  }
  return from_vector(all, {static_cast<int64_t>(all.size() / 4), 4});
}

}  // namespace maskdet
