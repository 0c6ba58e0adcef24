// FrozenBatchNorm2d: buffers initialised as torchvision does (weight 1, bias 0, mean 0,
// variance 1) and the forward as one per-channel affine map of the input.
#include "layers/frozen_batch_norm.h"

#include <sstream>

#include "autograd/ops.h"
#include "tensor/creation.h"

namespace maskdet::nn {

FrozenBatchNorm2d::FrozenBatchNorm2d(int64_t num_features, double eps)
    : UnaryModule("FrozenBatchNorm2d"), num_features_(num_features), eps_(eps) {
  MASKDET_CHECK(num_features > 0, "FrozenBatchNorm2d: num_features must be positive, got ", num_features);
  MASKDET_CHECK(eps >= 0, "FrozenBatchNorm2d: eps must be >= 0, got ", eps);
  weight_ = register_buffer("weight", ones({num_features}));
  bias_ = register_buffer("bias", zeros({num_features}));
  running_mean_ = register_buffer("running_mean", zeros({num_features}));
  running_var_ = register_buffer("running_var", ones({num_features}));
}

Tensor FrozenBatchNorm2d::forward(const Tensor& x) {
  MASKDET_CHECK(x.defined() && x.dim() == 4 && x.size(1) == num_features_, "FrozenBatchNorm2d: expected a (N, ",
                num_features_, ", H, W) input, got shape ", x.defined() ? shape_str(x.shape()) : "undefined");
  // The buffers require no grad, so only x * scale enters the graph.
  const auto [scale, shift] = scale_and_shift();
  const Shape per_channel{1, num_features_, 1, 1};
  return x * scale.reshape(per_channel) + shift.reshape(per_channel);
}

std::pair<Tensor, Tensor> FrozenBatchNorm2d::scale_and_shift() const {
  const Tensor scale = weight_ * pow(running_var_ + eps_, -0.5);
  return {scale, bias_ - running_mean_ * scale};
}

std::string FrozenBatchNorm2d::extra_repr() const {
  std::ostringstream os;
  os << num_features_ << ", eps=" << eps_;
  return os.str();
}

}  // namespace maskdet::nn
