// Sequential: registration under indices and the chained forward.
#include "layers/sequential.h"

namespace maskdet::nn {

Sequential::Sequential(std::initializer_list<std::shared_ptr<UnaryModule>> layers) : Sequential() {
  for (const auto& layer : layers) push_back(layer);
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& layer : layers_) y = layer->forward(y);
  return y;
}

const std::shared_ptr<UnaryModule>& Sequential::operator[](size_t index) const {
  MASKDET_CHECK(index < layers_.size(), "Sequential: index ", index, " out of range for ", layers_.size(), " layers");
  return layers_[index];
}

}  // namespace maskdet::nn
