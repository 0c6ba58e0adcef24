// SampleSource: where the loader gets sample i from: image files through the decoder
// (maskdet_data_io's ImageFileSource), the prepared cache, drawn synthetic images, or memory.
// load() is called from several worker threads at once and must be safe for that.
#pragma once
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "apps/data/sample.h"
#include "tensor/error.h"

namespace maskdet::data {

class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual size_t size() const = 0;
  virtual const std::vector<std::string>& classes() const = 0;
  // Sample `index`, with its boxes in the returned image's pixels. Thread-safe.
  virtual Sample load(size_t index) const = 0;
  // A name for sample `index` in messages (its image path), without loading it.
  virtual std::string describe(size_t index) const = 0;
};

// Samples held in memory: tests, and data made on the fly.
class InMemorySource : public SampleSource {
 public:
  InMemorySource(std::vector<std::string> classes, std::vector<Sample> samples)
      : classes_(std::move(classes)), samples_(std::move(samples)) {
    for (size_t i = 0; i < samples_.size(); ++i) samples_[i].index = i;
  }
  size_t size() const override { return samples_.size(); }
  const std::vector<std::string>& classes() const override { return classes_; }
  Sample load(size_t index) const override {
    MASKDET_CHECK(index < samples_.size(), "InMemorySource: sample ", index, " of ", samples_.size());
    return samples_[index];
  }
  std::string describe(size_t index) const override {
    return index < samples_.size() ? samples_[index].image_path : "?";
  }

 private:
  std::vector<std::string> classes_;
  std::vector<Sample> samples_;
};

}  // namespace maskdet::data
