// The detector's optimiser step (training_step.h).
#include "apps/maskdet/training_step.h"

#include <cmath>
#include <string>

#include "layers/optim/adamw.h"
#include "layers/optim/clip_grad.h"
#include "layers/optim/sgd.h"

namespace maskdet::app {

std::vector<Tensor> trainable_parameters(const RetinaNet& model) {
  std::vector<Tensor> params;
  for (const Tensor& p : model.parameters())
    if (p.requires_grad()) params.push_back(p);
  return params;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const TrainSettings& s, std::vector<Tensor> params) {
  if (s.optimizer == "sgd")
    return std::make_unique<optim::SGD>(std::move(params),
                                        optim::SGDOptions{.lr = s.lr, .momentum = s.momentum, .weight_decay = s.weight_decay});
  return std::make_unique<optim::AdamW>(std::move(params), optim::AdamWOptions{.lr = s.lr, .weight_decay = s.weight_decay});
}

LossValues training_step(RetinaNet& model, optim::Optimizer& optimizer, const std::vector<Tensor>& params,
                         const Tensor& images, const std::vector<DetectionTarget>& targets, double clip_grad_norm,
                         const NotFiniteHandler& not_finite) {
  // A handler that returns must not let the update through.
  auto stop = [&](const char* what, double value, const LossValues& loss) {
    not_finite(what, value, loss);
    throw DivergedError(std::string("training diverged: ") + what + " is not finite");
  };
  const RetinaNetOutputs outputs = model.forward(images);
  const RetinaNetLosses losses = model.compute_loss(outputs, targets);
  const Tensor total = losses.total();
  const LossValues loss{total.item(), losses.classification.item(), losses.bbox_regression.item()};
  if (!std::isfinite(loss.total)) stop("the loss", loss.total, loss);
  optimizer.zero_grad();
  total.backward();
  if (clip_grad_norm > 0) {
    const double norm = optim::clip_grad_norm(params, clip_grad_norm);
    if (!std::isfinite(norm)) stop("the gradient norm", norm, loss);
  }
  optimizer.step();
  return loss;
}

}  // namespace maskdet::app
