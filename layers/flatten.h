// Flatten: torch.nn.Flatten, which joins dims start_dim..end_dim into one (by default all but
// the batch dim), so that a convolutional stack can feed a Linear inside a Sequential.
#pragma once
#include <cstdint>
#include <string>

#include "layers/module.h"

namespace maskdet::nn {

class Flatten : public UnaryModule {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : UnaryModule("Flatten"), start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor& x) override { return x.flatten(start_dim_, end_dim_); }

 protected:
  std::string extra_repr() const override {
    return "start_dim=" + std::to_string(start_dim_) + ", end_dim=" + std::to_string(end_dim_);
  }

 private:
  int64_t start_dim_;
  int64_t end_dim_;
};

}  // namespace maskdet::nn
