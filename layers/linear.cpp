// Linear layer: parameters, PyTorch's default initialisation and the forward through linear.
#include "layers/linear.h"

#include "autograd/ops.h"
#include "layers/init.h"
#include "tensor/creation.h"

namespace maskdet::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : UnaryModule("Linear"), in_features_(in_features), out_features_(out_features) {
  MASKDET_CHECK(in_features > 0 && out_features > 0, "Linear: in_features (", in_features, ") and out_features (",
                out_features, ") must be positive");
  weight_ = register_parameter("weight", empty({out_features, in_features}));
  if (bias) bias_ = register_parameter("bias", empty({out_features}));
  reset_parameters();
}

void Linear::reset_parameters() { init::layer_default_(weight_, bias_); }

Tensor Linear::forward(const Tensor& x) { return linear(x, weight_, bias_); }

std::string Linear::extra_repr() const {
  return "in_features=" + std::to_string(in_features_) + ", out_features=" + std::to_string(out_features_) +
         ", bias=" + (bias_.defined() ? "True" : "False");
}

}  // namespace maskdet::nn
