// Writing and reading the prepared cache (prepared_cache.h). The reader checks every offset
// and size against the tensors before trusting them: a cache is a file like any other.
#include "apps/data/prepared_cache.h"

#include <cmath>
#include <cstring>

#include "apps/data/resize.h"
#include "tensor/creation.h"
#include "tensor/json_text.h"
#include "tensor/safetensors.h"

namespace maskdet::data {

namespace {

constexpr const char* kFormat = "maskdet-prepared-cache";
constexpr const char* kVersion = "1";

std::vector<std::string> parse_string_array(const std::string& text, const std::string& path, const char* key) {
  std::vector<std::string> items;
  try {
    const nlohmann::ordered_json v = json::parse(text);
    MASKDET_CHECK(v.is_array(), "not an array");
    for (const auto& item : v) {
      MASKDET_CHECK(item.is_string(), "item ", items.size(), " is not a string");
      items.push_back(item.get<std::string>());
    }
  } catch (const Error& e) {
    MASKDET_FAIL("prepared cache ", path, ": metadata '", key, "' is not a JSON array of strings: ", e.what());
  }
  return items;
}

}  // namespace

Sample shrink_for_cache(Sample sample, int max_side) {
  const PixelSize from = sample.image.size();
  if (sample.original_size.width <= 0) sample.original_size = from;
  const PixelSize to = size_within(from, max_side);
  if (to == from) return sample;
  sample.image = resize_bilinear(sample.image, to);
  scale_boxes(sample.boxes, from, to);
  return sample;
}

void write_prepared_cache(const std::string& path, const std::vector<std::string>& classes,
                          const std::vector<Sample>& samples, int max_side) {
  const int64_t n = static_cast<int64_t>(samples.size());
  std::vector<int64_t> pixel_offsets{0}, box_offsets{0}, sizes, labels;
  std::vector<float> boxes;
  std::vector<uint8_t> difficult;
  std::vector<std::string> paths;
  for (const auto& s : samples) {
    MASKDET_CHECK(s.image.height <= max_side && s.image.width <= max_side, "write_prepared_cache ", path, ": ",
                  s.image_path, " is ", s.image.width, "x", s.image.height, ", larger than max_side ", max_side,
                  " (shrink_for_cache first)");
    pixel_offsets.push_back(pixel_offsets.back() + static_cast<int64_t>(s.image.pixels.size()));
    const PixelSize original = s.original_size.width > 0 ? s.original_size : s.image.size();
    sizes.insert(sizes.end(), {s.image.height, s.image.width, original.height, original.width});
    for (const auto& b : s.boxes) {
      boxes.insert(boxes.end(), {b.x1, b.y1, b.x2, b.y2});
      labels.push_back(b.class_id);
      difficult.push_back(b.difficult ? 1 : 0);
    }
    box_offsets.push_back(static_cast<int64_t>(labels.size()));
    paths.push_back(s.image_path);
  }
  Tensor pixels = empty({pixel_offsets.back()}, TensorOptions{}.with_dtype(DType::UInt8));
  uint8_t* dst = pixels.data_ptr<uint8_t>();
  for (size_t i = 0; i < samples.size(); ++i)
    if (!samples[i].image.pixels.empty())
      std::memcpy(dst + pixel_offsets[i], samples[i].image.pixels.data(), samples[i].image.pixels.size());

  const auto i64 = TensorOptions{}.with_dtype(DType::Int64);
  const int64_t b = static_cast<int64_t>(labels.size());
  save_safetensors(path,
                   {{"pixels", pixels},
                    {"pixel_offsets", from_vector(pixel_offsets, {n + 1}, i64)},
                    {"image_sizes", from_vector(sizes, {n, 4}, i64)},
                    {"boxes", from_vector(boxes, {b, 4})},
                    {"box_labels", from_vector(labels, {b}, i64)},
                    {"box_difficult", from_vector(difficult, {b}, TensorOptions{}.with_dtype(DType::UInt8))},
                    {"box_offsets", from_vector(box_offsets, {n + 1}, i64)}},
                   {{"format", kFormat},
                    {"version", kVersion},
                    {"max_side", std::to_string(max_side)},
                    {"classes", json::dump(nlohmann::ordered_json(classes))},
                    {"image_paths", json::dump(nlohmann::ordered_json(paths))}});
}

PreparedCache::PreparedCache(const std::string& path) : path_(path) {
  SafetensorsContents file = load_safetensors_with_metadata(path);
  const auto meta = [&](const char* key) -> const std::string& {
    const auto it = file.metadata.find(key);
    MASKDET_CHECK(it != file.metadata.end(), "prepared cache ", path, ": metadata '", key,
                  "' is missing (not a prepared cache?)");
    return it->second;
  };
  MASKDET_CHECK(meta("format") == kFormat, "prepared cache ", path, ": format '", meta("format"), "', expected '",
                kFormat, "'");
  MASKDET_CHECK(meta("version") == kVersion, "prepared cache ", path, ": version ", meta("version"),
                ", this reader knows version ", kVersion, " (rebuild the cache)");
  classes_ = parse_string_array(meta("classes"), path, "classes");
  image_paths_ = parse_string_array(meta("image_paths"), path, "image_paths");
  max_side_ = std::atoi(meta("max_side").c_str());

  const int64_t n = static_cast<int64_t>(image_paths_.size());
  const auto tensor = [&](const char* name, DType dtype, const Shape& shape) {
    const auto it = file.tensors.find(name);
    MASKDET_CHECK(it != file.tensors.end(), "prepared cache ", path, ": tensor '", name, "' is missing");
    MASKDET_CHECK(it->second.dtype() == dtype, "prepared cache ", path, ": tensor '", name, "' is ",
                  dtype_name(it->second.dtype()), ", expected ", dtype_name(dtype));
    for (size_t d = 0; d < shape.size(); ++d)
      MASKDET_CHECK(it->second.dim() == static_cast<int64_t>(shape.size()) && (shape[d] < 0 || it->second.size(d) == shape[d]),
                    "prepared cache ", path, ": tensor '", name, "' has shape ", shape_str(it->second.shape()),
                    ", expected ", shape_str(shape), " (-1: any)");
    return it->second;
  };
  pixels_ = tensor("pixels", DType::UInt8, {-1});
  pixel_offsets_ = tensor("pixel_offsets", DType::Int64, {n + 1});
  image_sizes_ = tensor("image_sizes", DType::Int64, {n, 4});
  box_offsets_ = tensor("box_offsets", DType::Int64, {n + 1});
  boxes_ = tensor("boxes", DType::Float32, {-1, 4});
  const int64_t b = boxes_.size(0);
  box_labels_ = tensor("box_labels", DType::Int64, {b});
  box_difficult_ = tensor("box_difficult", DType::UInt8, {b});

  const int64_t* po = pixel_offsets_.data_ptr<int64_t>();
  const int64_t* bo = box_offsets_.data_ptr<int64_t>();
  const int64_t* sz = image_sizes_.data_ptr<int64_t>();
  MASKDET_CHECK(po[0] == 0 && po[n] == pixels_.numel() && bo[0] == 0 && bo[n] == b, "prepared cache ", path,
                ": offsets do not cover the pixel and box tensors");
  for (int64_t i = 0; i < n; ++i) {
    const int64_t h = sz[i * 4], w = sz[i * 4 + 1];
    constexpr int64_t kMaxSide = 1 << 20;  // keeps h * w * 3 far from overflow
    MASKDET_CHECK(h > 0 && w > 0 && h < kMaxSide && w < kMaxSide && sz[i * 4 + 2] > 0 && sz[i * 4 + 3] > 0 && po[i + 1] - po[i] == h * w * 3 &&
                      bo[i] <= bo[i + 1],
                  "prepared cache ", path, ": image ", i, " (", image_paths_[i], ") has inconsistent sizes or offsets");
  }
  const int64_t* labels = box_labels_.data_ptr<int64_t>();
  const float* coords = boxes_.data_ptr<float>();
  for (int64_t k = 0; k < b; ++k) {
    MASKDET_CHECK(labels[k] >= 0 && labels[k] < static_cast<int64_t>(classes_.size()), "prepared cache ", path,
                  ": box ", k, " has label ", labels[k], " but there are ", classes_.size(), " classes");
    for (int j = 0; j < 4; ++j)
      MASKDET_CHECK(std::isfinite(coords[k * 4 + j]), "prepared cache ", path, ": box ", k, " is not finite");
  }
}

std::string PreparedCache::describe(size_t index) const {
  return index < image_paths_.size() ? image_paths_[index] + " in " + path_ : "?";
}

Sample PreparedCache::load(size_t index) const {
  MASKDET_CHECK(index < size(), "prepared cache ", path_, ": sample ", index, " of ", size());
  const int64_t i = static_cast<int64_t>(index);
  const int64_t* sz = image_sizes_.data_ptr<int64_t>() + i * 4;
  const int64_t* po = pixel_offsets_.data_ptr<int64_t>();
  const int64_t* bo = box_offsets_.data_ptr<int64_t>();
  Sample s;
  s.image.height = static_cast<int>(sz[0]);
  s.image.width = static_cast<int>(sz[1]);
  s.original_size = {static_cast<int>(sz[2]), static_cast<int>(sz[3])};
  const uint8_t* px = pixels_.data_ptr<uint8_t>();
  s.image.pixels.assign(px + po[i], px + po[i + 1]);
  const float* coords = boxes_.data_ptr<float>();
  const int64_t* labels = box_labels_.data_ptr<int64_t>();
  const uint8_t* difficult = box_difficult_.data_ptr<uint8_t>();
  for (int64_t k = bo[i]; k < bo[i + 1]; ++k)
    s.boxes.push_back({coords[k * 4], coords[k * 4 + 1], coords[k * 4 + 2], coords[k * 4 + 3],
                       static_cast<int>(labels[k]), difficult[k] != 0});
  s.image_path = image_paths_[index];
  s.index = index;
  return s;
}

}  // namespace maskdet::data
