// Sequential: a chain of UnaryModules run in order, its children named "0", "1", ... as in
// torch.nn.Sequential (so "layer1.0.conv1.weight"-style checkpoint keys come out the same).
#pragma once
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layers/module.h"

namespace maskdet::nn {

class Sequential : public UnaryModule {
 public:
  Sequential() : UnaryModule("Sequential") {}
  // A subclass's type name for printing, e.g. "Conv2dNormActivation".
  explicit Sequential(std::string type_name) : UnaryModule(std::move(type_name)) {}
  Sequential(std::initializer_list<std::shared_ptr<UnaryModule>> layers);

  // Appends a layer under the next index; returns it, typed.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> layer) {
    layers_.push_back(register_module(std::to_string(layers_.size()), layer));
    return layer;
  }

  Tensor forward(const Tensor& x) override;

  size_t size() const { return layers_.size(); }
  bool empty() const { return layers_.empty(); }
  const std::shared_ptr<UnaryModule>& operator[](size_t index) const;
  auto begin() const { return layers_.begin(); }
  auto end() const { return layers_.end(); }

 private:
  std::vector<std::shared_ptr<UnaryModule>> layers_;
};

}  // namespace maskdet::nn
