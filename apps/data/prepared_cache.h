// The prepared cache: a whole data set decoded once, shrunk so no side exceeds max_side, in
// one safetensors file (tensor/safetensors.h), so training reads pixels instead of decoding
// JPEGs each epoch and needs no OpenCV. Layout:
//   "pixels"        U8  (total bytes)  every image's RGB bytes, one after another
//   "pixel_offsets" I64 (N + 1)        image i is pixels[offsets[i], offsets[i + 1])
//   "image_sizes"   I64 (N, 4)         stored height, width; original height, width
//   "boxes"         F32 (B, 4)         x1, y1, x2, y2 in the stored image's pixels
//   "box_labels"    I64 (B)            class ids
//   "box_difficult" U8  (B)
//   "box_offsets"   I64 (N + 1)        image i owns boxes [offsets[i], offsets[i + 1])
//   metadata: format "maskdet-prepared-cache", version "1", max_side, and JSON arrays
//   "classes" and "image_paths".
// The file is written under a temporary name and renamed (save_safetensors), so a crash
// never leaves half a cache. The reader loads it whole into memory.
#pragma once
#include <string>
#include <vector>

#include "apps/data/sample_source.h"
#include "tensor/tensor.h"

namespace maskdet::data {

// `sample` as the cache stores it: shrunk (resize.h) when a side exceeds max_side.
Sample shrink_for_cache(Sample sample, int max_side);

// Writes `samples` (already shrunk) and `classes` to `path`.
void write_prepared_cache(const std::string& path, const std::vector<std::string>& classes,
                          const std::vector<Sample>& samples, int max_side);

// A SampleSource over a cache file. Throws maskdet::Error naming the file when it is not a
// well-formed cache (missing tensor, inconsistent sizes or offsets, label out of range).
class PreparedCache : public SampleSource {
 public:
  explicit PreparedCache(const std::string& path);

  size_t size() const override { return image_paths_.size(); }
  const std::vector<std::string>& classes() const override { return classes_; }
  Sample load(size_t index) const override;
  std::string describe(size_t index) const override;
  int max_side() const { return max_side_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> classes_, image_paths_;
  int max_side_ = 0;
  Tensor pixels_, pixel_offsets_, image_sizes_, boxes_, box_labels_, box_difficult_, box_offsets_;
};

}  // namespace maskdet::data
