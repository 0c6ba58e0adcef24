// FrozenBatchNorm2d: batch norm with fixed statistics and affine parameters, as
// torchvision.ops.FrozenBatchNorm2d, which torchvision's detection backbones use because
// detection batches are too small for useful batch statistics. weight, bias, running_mean and
// running_var are all buffers (never trained); y = x * scale + shift with
// scale = weight / sqrt(running_var + eps), shift = bias - running_mean * scale.
// A checkpoint's num_batches_tracked entries (from a BatchNorm2d) are accepted and ignored.
#pragma once
#include <cstdint>
#include <utility>

#include "layers/module.h"

namespace maskdet::nn {

class FrozenBatchNorm2d : public UnaryModule {
 public:
  explicit FrozenBatchNorm2d(int64_t num_features, double eps = 1e-5);

  // x: (N, C, H, W) -> (N, C, H, W); differentiable in x only.
  Tensor forward(const Tensor& x) override;
  // The affine map the forward applies, y = x * scale + shift per channel: scale, shift (C).
  // A convolution before it can absorb the map into its weight and bias (fold_into_conv.h).
  std::pair<Tensor, Tensor> scale_and_shift() const;

  int64_t num_features() const { return num_features_; }
  double eps() const { return eps_; }
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_var() const { return running_var_; }

 protected:
  std::string extra_repr() const override;
  std::vector<std::string> ignored_state_keys() const override { return {"num_batches_tracked"}; }

 private:
  int64_t num_features_;
  double eps_;
  Tensor weight_, bias_, running_mean_, running_var_;
};

}  // namespace maskdet::nn
