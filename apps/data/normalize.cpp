// ImageNet normalisation (normalize.h), folded into one multiply-add per value.
#include "apps/data/normalize.h"

#include "tensor/error.h"

namespace maskdet::data {

void normalize_planar(std::vector<float>& planar) {
  MASKDET_CHECK(planar.size() % 3 == 0, "normalize_planar: ", planar.size(), " values are not 3 planes");
  const size_t plane = planar.size() / 3;
  for (size_t c = 0; c < 3; ++c) {
    const float scale = 1.f / (255.f * kImageNetStd[c]);
    const float shift = -kImageNetMean[c] / kImageNetStd[c];
    float* p = planar.data() + c * plane;
    for (size_t i = 0; i < plane; ++i) p[i] = p[i] * scale + shift;
  }
}

}  // namespace maskdet::data
