// GroupNorm: torch.nn.GroupNorm, normalisation over groups of channels per sample, independent
// of the batch size (RetinaNet heads often use it with 32 groups). Parameters "weight" and
// "bias" (C) when affine, initialised to 1 and 0; no buffers, the same in train and eval mode.
#pragma once
#include <cstdint>

#include "layers/module.h"

namespace maskdet::nn {

struct GroupNormOptions {
  int64_t num_groups = 0;
  int64_t num_channels = 0;
  double eps = 1e-5;
  bool affine = true;
};

class GroupNorm : public UnaryModule {
 public:
  explicit GroupNorm(const GroupNormOptions& options);
  GroupNorm(int64_t num_groups, int64_t num_channels)
      : GroupNorm(GroupNormOptions{.num_groups = num_groups, .num_channels = num_channels}) {}

  // x: (N, C, *spatial) -> the same shape
  Tensor forward(const Tensor& x) override;

  const GroupNormOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }  // undefined without affine
  const Tensor& bias() const { return bias_; }

 protected:
  std::string extra_repr() const override;

 private:
  GroupNormOptions options_;
  Tensor weight_, bias_;
};

}  // namespace maskdet::nn
