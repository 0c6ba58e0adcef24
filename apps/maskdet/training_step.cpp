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

std::unique_ptr<optim::Optimizer> make_optimizer(const TrainSettings& s, const RetinaNet& model) {
  std::vector<optim::ParamGroup> groups;
  if (s.backbone_lr_factor == 1) {
    groups.push_back({trainable_parameters(model)});
  } else {
    // A pretrained backbone is adjusted gently while the new pyramid and heads learn fast.
    optim::ParamGroup backbone{.lr = s.lr * s.backbone_lr_factor}, rest;
    for (const auto& [name, p] : model.named_parameters())
      if (p.requires_grad()) (name.rfind("backbone.body.", 0) == 0 ? backbone : rest).params.push_back(p);
    for (auto* group : {&backbone, &rest})
      if (!group->params.empty()) groups.push_back(std::move(*group));
  }
  if (s.optimizer == "sgd")
    return std::make_unique<optim::SGD>(std::move(groups),
                                        optim::SGDOptions{.lr = s.lr, .momentum = s.momentum, .weight_decay = s.weight_decay});
  return std::make_unique<optim::AdamW>(std::move(groups), optim::AdamWOptions{.lr = s.lr, .weight_decay = s.weight_decay});
}

LossValues training_step(RetinaNet& model, optim::Optimizer& optimizer, const std::vector<Tensor>& params,
                         const Tensor& images, const std::vector<DetectionTarget>& targets, double clip_grad_norm,
                         const NotFiniteHandler& not_finite, DataParallelShare* share) {
  // A handler that returns must not let the update through.
  auto stop = [&](const char* what, double value, const LossValues& loss) {
    not_finite(what, value, loss);
    throw DivergedError(std::string("training diverged: ") + what + " is not finite");
  };
  const RetinaNetOutputs outputs = model.forward(images);
  const RetinaNetLosses losses = model.compute_loss(outputs, targets);
  const Tensor total = losses.total();
  LossValues loss{total.item(), losses.classification.item(), losses.bbox_regression.item()};
  if (share) {
    // A NaN on any rank makes the sum NaN on all of them.
    double values[3] = {share->weight * loss.total, share->weight * loss.classification, share->weight * loss.regression};
    share->group->all_reduce_sum(values, 3, "the step's loss values");
    loss = {values[0], values[1], values[2]};
  }
  if (!std::isfinite(loss.total)) stop("the loss", loss.total, loss);
  optimizer.zero_grad();
  if (share && share->overlap) {
    {
      const auto reducing = share->buckets->begin(*share->group, static_cast<float>(share->weight));
      total.backward();
    }
    share->buckets->finish();
  } else {
    total.backward();
    if (share) share->buckets->reduce(*share->group, static_cast<float>(share->weight));
  }
  if (share) {
    share->all_reduce_seconds = share->buckets->all_reduce_seconds();
    share->exposed_seconds = share->buckets->exposed_seconds();
  }
  if (clip_grad_norm > 0) {
    const double norm = optim::clip_grad_norm(params, clip_grad_norm);
    if (!std::isfinite(norm)) stop("the gradient norm", norm, loss);
  }
  optimizer.step();
  return loss;
}

}  // namespace maskdet::app
