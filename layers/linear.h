// Linear: a fully connected layer, y = x W^T + b, with torch.nn.Linear's parameters ("weight"
// (out, in), "bias" (out)) and default initialisation.
#pragma once
#include <cstdint>

#include "layers/module.h"

namespace maskdet::nn {

class Linear : public UnaryModule {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);

  // x: (N, in_features) -> (N, out_features)
  Tensor forward(const Tensor& x) override;
  // PyTorch's default initialisation (init::layer_default_); the constructor calls it.
  void reset_parameters();

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias

 protected:
  std::string extra_repr() const override;

 private:
  int64_t in_features_;
  int64_t out_features_;
  Tensor weight_;
  Tensor bias_;
};

}  // namespace maskdet::nn
