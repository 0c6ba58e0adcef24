// BatchNorm2d: torch.nn.BatchNorm2d with the same state, so torchvision state dicts map onto it
// key for key: parameters "weight" and "bias" (C) (when affine), buffers "running_mean",
// "running_var" (C) and "num_batches_tracked" (int64 scalar) (when tracking running stats).
// Training mode normalises with the batch statistics and updates the running ones; eval mode
// normalises with the running ones.
#pragma once
#include <cstdint>

#include "layers/module.h"

namespace maskdet::nn {

struct BatchNorm2dOptions {
  int64_t num_features = 0;
  double eps = 1e-5;
  double momentum = 0.1;  // running = (1 - momentum) * running + momentum * batch
  bool affine = true;
  bool track_running_stats = true;  // false: batch statistics in eval mode too, and no buffers
};

class BatchNorm2d : public UnaryModule {
 public:
  explicit BatchNorm2d(const BatchNorm2dOptions& options);
  explicit BatchNorm2d(int64_t num_features) : BatchNorm2d(BatchNorm2dOptions{.num_features = num_features}) {}

  // x: (N, C, H, W) -> (N, C, H, W)
  Tensor forward(const Tensor& x) override;

  const BatchNorm2dOptions& options() const { return options_; }
  // Undefined when the corresponding option is off.
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_var() const { return running_var_; }
  const Tensor& num_batches_tracked() const { return num_batches_tracked_; }

 protected:
  std::string extra_repr() const override;

 private:
  BatchNorm2dOptions options_;
  Tensor weight_, bias_;
  Tensor running_mean_, running_var_, num_batches_tracked_;
};

}  // namespace maskdet::nn
