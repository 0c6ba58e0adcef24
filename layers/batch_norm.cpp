// BatchNorm2d layer: its state, initialised as PyTorch does (weight 1, bias 0, running mean 0,
// running variance 1), and the forward through batch_norm.
#include "layers/batch_norm.h"

#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/elementwise.h"

namespace maskdet::nn {

BatchNorm2d::BatchNorm2d(const BatchNorm2dOptions& options) : UnaryModule("BatchNorm2d"), options_(options) {
  const int64_t c = options_.num_features;
  MASKDET_CHECK(c > 0, "BatchNorm2d: num_features must be positive, got ", c);
  MASKDET_CHECK(options_.eps >= 0, "BatchNorm2d: eps must be >= 0, got ", options_.eps);
  if (options_.affine) {
    weight_ = register_parameter("weight", ones({c}));
    bias_ = register_parameter("bias", zeros({c}));
  }
  if (options_.track_running_stats) {
    running_mean_ = register_buffer("running_mean", zeros({c}));
    running_var_ = register_buffer("running_var", ones({c}));
    num_batches_tracked_ = register_buffer("num_batches_tracked", zeros({}, {DType::Int64}));
  }
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  MASKDET_CHECK(x.defined() && x.dim() == 4, "BatchNorm2d: expected a (N, C, H, W) input, got shape ",
                x.defined() ? shape_str(x.shape()) : "undefined");
  const bool use_batch_stats = is_training() || !options_.track_running_stats;
  if (is_training() && options_.track_running_stats) {
    // Counted on the device, with no host round trip, for checkpoints that expect it.
    NoGradGuard no_grad;
    kernels::binary_forward(kernels::BinaryOp::Add, num_batches_tracked_, ones_like(num_batches_tracked_),
                            num_batches_tracked_);
  }
  if (replicas_ && is_training())
    return sync_batch_norm(x, weight_, bias_, running_mean_, running_var_, replicas_, options_.momentum, options_.eps);
  return batch_norm(x, weight_, bias_, running_mean_, running_var_, use_batch_stats, options_.momentum, options_.eps);
}

std::string BatchNorm2d::extra_repr() const {
  std::ostringstream os;
  os << options_.num_features << ", eps=" << options_.eps << ", momentum=" << options_.momentum
     << ", affine=" << (options_.affine ? "True" : "False")
     << ", track_running_stats=" << (options_.track_running_stats ? "True" : "False");
  if (replicas_) os << ", synchronised";
  return os.str();
}

int convert_sync_batch_norm(Module& root, const std::shared_ptr<ReplicaSum>& replicas) {
  int converted = 0;
  if (auto* norm = dynamic_cast<BatchNorm2d*>(&root)) {
    norm->synchronise_with(replicas);
    ++converted;
  }
  for (const auto& [name, child] : root.named_children()) converted += convert_sync_batch_norm(*child, replicas);
  return converted;
}

}  // namespace maskdet::nn
