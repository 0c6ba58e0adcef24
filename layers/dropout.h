// Dropout (Srivastava et al. 2014, "Dropout: A Simple Way to Prevent Neural Networks from
// Overfitting"), as torch.nn.Dropout: in training mode each element is zeroed with probability p
// and the survivors scaled by 1 / (1 - p), so eval mode (the identity) sees the same expectation.
#pragma once
#include <string>

#include "autograd/ops.h"
#include "layers/module.h"
#include "tensor/creation.h"

namespace maskdet::nn {

class Dropout : public UnaryModule {
 public:
  explicit Dropout(double p = 0.5) : UnaryModule("Dropout"), p_(p) {
    MASKDET_CHECK(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got ", p);
  }
  Tensor forward(const Tensor& x) override {
    if (!is_training() || p_ == 0) return x;
    const Tensor keep = ge(rand(x.shape(), TensorOptions{}.with_dtype(x.dtype()).with_device(x.device())),
                           scalar_tensor(p_, TensorOptions{}.with_dtype(x.dtype()).with_device(x.device())));
    return x * keep.to(x.dtype()) * (1.0 / (1.0 - p_));
  }
  double p() const { return p_; }

 protected:
  std::string extra_repr() const override { return "p=" + std::to_string(p_); }

 private:
  double p_;
};

}  // namespace maskdet::nn
