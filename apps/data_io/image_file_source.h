// ImageFileSource: the loader's direct path, decoding each image file of a Dataset when it is
// asked for (image_decode.h). Boxes are clipped to the decoded image, and a box with nothing
// left is dropped: an annotation whose size disagrees with its file (load_dataset warns about
// that under ImageCheck::Decodes) must not put boxes outside the network's input.
#pragma once
#include "apps/data/annotations.h"
#include "apps/data/sample_source.h"

namespace maskdet::data {

class ImageFileSource : public SampleSource {
 public:
  explicit ImageFileSource(Dataset dataset) : dataset_(std::move(dataset)) {}
  size_t size() const override { return dataset_.images.size(); }
  const std::vector<std::string>& classes() const override { return dataset_.classes; }
  Sample load(size_t index) const override;
  std::string describe(size_t index) const override {
    return index < dataset_.images.size() ? dataset_.images[index].image_path : "?";
  }
  const Dataset& dataset() const { return dataset_; }

 private:
  Dataset dataset_;
};

}  // namespace maskdet::data
