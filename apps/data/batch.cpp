// Padding and stacking prepared samples (batch.h).
#include "apps/data/batch.h"

#include <algorithm>
#include <cstring>

#include "tensor/creation.h"

namespace maskdet::data {

namespace {
int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }
}  // namespace

Batch collate(const std::vector<PreparedSample>& samples, int size_divisible, int canvas) {
  MASKDET_CHECK(!samples.empty(), "collate: no samples");
  MASKDET_CHECK(size_divisible > 0, "collate: size_divisible ", size_divisible, " must be positive");
  MASKDET_CHECK(canvas >= 0, "collate: canvas ", canvas, " must be >= 0");
  int height = canvas, width = canvas;
  for (const auto& s : samples) {
    height = std::max(height, s.size.height);
    width = std::max(width, s.size.width);
  }
  height = round_up(height, size_divisible);
  width = round_up(width, size_divisible);
  const int64_t n = static_cast<int64_t>(samples.size());

  Batch batch;
  batch.images = zeros({n, 3, height, width});
  float* dst = batch.images.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const PreparedSample& s = samples[i];
    MASKDET_CHECK(s.pixels.size() == 3 * static_cast<size_t>(s.size.height) * s.size.width, "collate: sample ",
                  s.index, " (", s.image_path, ") has ", s.pixels.size(), " values for a ", s.size.width, "x",
                  s.size.height, " image");
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < s.size.height; ++y)
        std::memcpy(dst + ((i * 3 + c) * height + y) * width,
                    s.pixels.data() + (static_cast<size_t>(c) * s.size.height + y) * s.size.width,
                    sizeof(float) * s.size.width);

    const int64_t m = static_cast<int64_t>(s.boxes.size());
    std::vector<float> coords;
    std::vector<int64_t> labels;
    std::vector<bool> difficult;
    for (const auto& b : s.boxes) {
      coords.insert(coords.end(), {b.x1, b.y1, b.x2, b.y2});
      labels.push_back(b.class_id);
      difficult.push_back(b.difficult);
    }
    batch.boxes.push_back(from_vector(coords, {m, 4}));
    batch.labels.push_back(from_vector(labels, {m}, TensorOptions{}.with_dtype(DType::Int64)));
    batch.difficult.push_back(std::move(difficult));
    batch.image_sizes.push_back(s.size);
    batch.original_sizes.push_back(s.original_size);
    batch.scales_x.push_back(s.scale_x);
    batch.scales_y.push_back(s.scale_y);
    batch.indices.push_back(s.index);
    batch.image_paths.push_back(s.image_path);
  }
  return batch;
}

void pad_batch(Batch& batch, int64_t height, int64_t width) {
  const int64_t n = batch.images.size(0), h = batch.images.size(2), w = batch.images.size(3);
  MASKDET_CHECK(height >= h && width >= w, "pad_batch: ", height, "x", width, " is smaller than the batch's ", h, "x", w);
  if (height == h && width == w) return;
  Tensor padded = zeros({n, 3, height, width});
  const Tensor source = batch.images.contiguous();
  const float* src = source.data_ptr<float>();
  float* dst = padded.data_ptr<float>();
  for (int64_t plane = 0; plane < n * 3; ++plane)
    for (int64_t y = 0; y < h; ++y)
      std::memcpy(dst + (plane * height + y) * width, src + (plane * h + y) * w, sizeof(float) * static_cast<size_t>(w));
  batch.images = padded;
}

}  // namespace maskdet::data
