// One optimiser step of the detector, as `maskdet train` takes it and `maskdet bench` times it,
// with the optimiser the training flags name. Kept apart from the training loop (trainer.h),
// which needs the data layer and image decoding, so that the benchmark builds without OpenCV.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "apps/dist/data_parallel.h"
#include "apps/maskdet/train_settings.h"
#include "apps/maskdet/training_log.h"
#include "layers/optim/optimizer.h"
#include "retinanet/retinanet.h"

namespace maskdet::app {

// Thrown when the loss or the gradient norm stops being a finite number.
class DivergedError : public Error {
 public:
  using Error::Error;
};

// The parameters the optimiser updates: those that require a gradient (a frozen backbone's do not).
std::vector<Tensor> trainable_parameters(const RetinaNet& model);
// The optimiser the settings name (--optimizer, --lr, --momentum, --weight-decay) over the model's
// trainable parameters: one group, or with --backbone-lr-factor other than 1 two, the backbone's
// (at lr x factor) and the rest.
std::unique_ptr<optim::Optimizer> make_optimizer(const TrainSettings& settings, const RetinaNet& model);

// Called when the loss or the gradient norm is not finite; `what` names which ("the loss", "the
// gradient norm"). It should throw: the step stops before the update either way.
using NotFiniteHandler = std::function<void(const char* what, double value, const LossValues& loss)>;

// One rank's part in a data-parallel step (apps/dist/): the loss is a mean over the global
// batch's images (each image's terms divided by its own foreground count, then averaged), so a
// rank weighs its shard's mean by weight = its images / the global batch's and the gradients are
// summed over the ranks: the sum is the single-process gradient of the global batch. The loss
// values are summed the same way before anything is checked, so every rank sees the same global
// loss and stops together when it is not finite.
struct DataParallelShare {
  dist::ProcessGroup* group = nullptr;
  dist::GradientBuckets* buckets = nullptr;  // over the step's params
  double weight = 1;
  bool overlap = true;  // start each bucket's all-reduce during backward, else after it
  // Set by the step: seconds in the gradient all-reduces, and seconds after backward spent
  // waiting for the last buckets and copying the sums back.
  double all_reduce_seconds = 0;
  double exposed_seconds = 0;
};

// The whole step: forward, focal and box losses with anchor matching, backward, gradient clipping
// to clip_grad_norm (0: none), update. The losses are read back to the host (for the log and the
// finiteness check) before the backward. params: the optimiser's; images (N, 3, H, W) and
// targets (N entries) on the model's device. share: null in a single process; otherwise images
// and targets are this rank's shard and the returned losses are the global batch's.
LossValues training_step(RetinaNet& model, optim::Optimizer& optimizer, const std::vector<Tensor>& params,
                         const Tensor& images, const std::vector<DetectionTarget>& targets, double clip_grad_norm,
                         const NotFiniteHandler& not_finite, DataParallelShare* share = nullptr);

}  // namespace maskdet::app
