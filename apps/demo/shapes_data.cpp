#include "apps/demo/shapes_data.h"

#include <vector>

#include "tensor/creation.h"

namespace maskdet::demo {

ShapeBatch make_shape_batch(int64_t n, Generator& gen) {
  constexpr int64_t S = kShapeImageSize;
  std::vector<float> pixels(n * S * S), labels(n);
  auto uniform_int = [&](int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(gen.uniform() * (hi - lo + 1)); };
  for (int64_t i = 0; i < n; ++i) {
    const bool disk = i % 2 == 1;
    labels[i] = disk ? 1.f : 0.f;
    const int64_t r = uniform_int(3, 5);  // half-size of the shape
    const int64_t cy = uniform_int(r, S - 1 - r), cx = uniform_int(r, S - 1 - r);
    float* img = pixels.data() + i * S * S;
    for (int64_t y = 0; y < S; ++y) {
      for (int64_t x = 0; x < S; ++x) {
        const int64_t dy = y - cy, dx = x - cx;
        bool on;
        if (disk) {
          on = dy * dy + dx * dx <= r * r;
        } else {
          const int64_t m = std::max(std::abs(dy), std::abs(dx));
          on = m == r;  // the square's outline only
        }
        img[y * S + x] = (on ? 1.0f : 0.0f) - 0.25f + 0.6f * static_cast<float>(gen.normal());
      }
    }
  }
  return {from_vector(pixels, {n, 1, S, S}), from_vector(labels, {n, 1})};
}

}  // namespace maskdet::demo
