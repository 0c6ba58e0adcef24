// BatchNorm2d: torch.nn.BatchNorm2d with the same state, so torchvision state dicts map onto it
// key for key: parameters "weight" and "bias" (C) (when affine), buffers "running_mean",
// "running_var" (C) and "num_batches_tracked" (int64 scalar) (when tracking running stats).
// Training mode normalises with the batch statistics and updates the running ones; eval mode
// normalises with the running ones. Synchronised (synchronise_with, or convert_sync_batch_norm on
// a whole model), training mode uses the statistics of the batches of every replica of a
// data-parallel run, as torch.nn.SyncBatchNorm, with the same state and names.
#pragma once
#include <cstdint>
#include <memory>

#include "autograd/replica_sum.h"
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

  // Training mode's statistics over the replicas `replicas` sums across (null: this batch's
  // own). Every replica must run the same forwards and backwards in the same order.
  void synchronise_with(std::shared_ptr<ReplicaSum> replicas) { replicas_ = std::move(replicas); }
  bool synchronised() const { return replicas_ != nullptr; }

 protected:
  std::string extra_repr() const override;

 private:
  BatchNorm2dOptions options_;
  Tensor weight_, bias_;
  Tensor running_mean_, running_var_, num_batches_tracked_;
  std::shared_ptr<ReplicaSum> replicas_;
};

// Synchronises every BatchNorm2d under `root` (itself included) with `replicas`, as
// torch.nn.SyncBatchNorm.convert_sync_batchnorm; returns how many there were. FrozenBatchNorm2d
// has no batch statistics and is left alone.
int convert_sync_batch_norm(Module& root, const std::shared_ptr<ReplicaSum>& replicas);

}  // namespace maskdet::nn
