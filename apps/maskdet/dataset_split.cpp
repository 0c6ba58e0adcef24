// The seeded split and the subset view (dataset_split.h).
#include "apps/maskdet/dataset_split.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "apps/data/seed_derivation.h"
#include "tensor/generator.h"

namespace maskdet::app {

namespace {
// Names the split's random stream, apart from the streams the seed drives in training.
constexpr uint64_t kSplitStream = 0x5b117;
}  // namespace

DatasetSplit split_dataset(size_t count, double val_fraction, uint64_t seed) {
  MASKDET_CHECK(val_fraction >= 0 && val_fraction < 1, "validation fraction ", val_fraction, " is not in [0, 1)");
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), size_t{0});
  Generator gen(data::derive_seed(seed, {kSplitStream}));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[gen.next_u64() % i]);
  size_t held_out = static_cast<size_t>(std::llround(static_cast<double>(count) * val_fraction));
  if (val_fraction > 0 && count >= 2) held_out = std::clamp<size_t>(held_out, 1, count - 1);
  DatasetSplit split;
  split.validation.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(held_out));
  split.train.assign(order.begin() + static_cast<std::ptrdiff_t>(held_out), order.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

data::Dataset subset(const data::Dataset& dataset, const std::vector<size_t>& indices) {
  data::Dataset out;
  out.classes = dataset.classes;
  for (const size_t i : indices) {
    MASKDET_CHECK(i < dataset.images.size(), "subset: image ", i, " of ", dataset.images.size());
    out.images.push_back(dataset.images[i]);
  }
  return out;
}

SubsetSource::SubsetSource(std::shared_ptr<const data::SampleSource> source, std::vector<size_t> indices)
    : source_(std::move(source)), indices_(std::move(indices)) {
  for (const size_t i : indices_)
    MASKDET_CHECK(i < source_->size(), "SubsetSource: sample ", i, " of ", source_->size());
}

data::Sample SubsetSource::load(size_t index) const {
  MASKDET_CHECK(index < indices_.size(), "SubsetSource: sample ", index, " of ", indices_.size());
  data::Sample sample = source_->load(indices_[index]);
  sample.index = index;
  return sample;
}

std::string SubsetSource::describe(size_t index) const {
  return index < indices_.size() ? source_->describe(indices_[index]) : "?";
}

}  // namespace maskdet::app
