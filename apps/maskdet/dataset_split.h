// The fixed validation split: which images of a data set are held out is drawn from the seed
// alone (a seeded shuffle of the image numbers), so every run, resumed run and `maskdet evaluate`
// with the same --val-fraction and --seed sees the same validation images. A SubsetSource then
// shows the loader only one side of the split.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "apps/data/annotations.h"
#include "apps/data/sample_source.h"

namespace maskdet::app {

struct DatasetSplit {
  std::vector<size_t> train, validation;  // image numbers, ascending
};

// round(count * val_fraction) images for validation (at least one when the fraction is > 0 and
// there are two images or more, so a small set still gets a validation figure).
DatasetSplit split_dataset(size_t count, double val_fraction, uint64_t seed);

// The images `indices` of `dataset`, in that order.
data::Dataset subset(const data::Dataset& dataset, const std::vector<size_t>& indices);

// Sample i is sample indices[i] of `source`.
class SubsetSource : public data::SampleSource {
 public:
  SubsetSource(std::shared_ptr<const data::SampleSource> source, std::vector<size_t> indices);
  size_t size() const override { return indices_.size(); }
  const std::vector<std::string>& classes() const override { return source_->classes(); }
  data::Sample load(size_t index) const override;
  std::string describe(size_t index) const override;

 private:
  std::shared_ptr<const data::SampleSource> source_;
  std::vector<size_t> indices_;
};

}  // namespace maskdet::app
