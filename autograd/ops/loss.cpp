// Loss ops: validate, run one fused kernel (tensor/kernels/loss.h) that yields each
// element's loss and its derivative, then reduce. The backward only rescales the saved
// per-element derivative by the incoming gradient, so it never re-reads logits or targets.
// Targets and weights are constants: they get no gradient.
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/loss.h"

namespace maskdet {

using autograd::record;

namespace {

void check_target(const Tensor& input, const Tensor& target, const char* op) {
  MASKDET_CHECK(input.defined() && target.defined(), op, ": undefined input or target");
  MASKDET_CHECK(is_floating(input.dtype()), op, ": input must be float32 or float64, got ",
                dtype_name(input.dtype()));
  MASKDET_CHECK(input.shape() == target.shape(), op, ": input has shape ", shape_str(input.shape()),
                " but target has shape ", shape_str(target.shape()));
  MASKDET_CHECK(input.dtype() == target.dtype(), op, ": input is ", dtype_name(input.dtype()), " but target is ",
                dtype_name(target.dtype()));
  MASKDET_CHECK(input.device() == target.device(), op, ": input is on ", input.device().str(), " but target is on ",
                target.device().str());
}

// The weight broadcast to the input's shape, dense (undefined stays undefined).
Tensor broadcast_weight(const Tensor& input, const Tensor& weight, const char* op) {
  if (!weight.defined()) return Tensor();
  MASKDET_CHECK(weight.dtype() == input.dtype(), op, ": weight is ", dtype_name(weight.dtype()), " but input is ",
                dtype_name(input.dtype()));
  MASKDET_CHECK(weight.device() == input.device(), op, ": weight is on ", weight.device().str(),
                " but input is on ", input.device().str());
  bool broadcasts = weight.dim() <= input.dim();
  for (int64_t i = 1; broadcasts && i <= weight.dim(); ++i) {
    const int64_t w = weight.size(-i), x = input.size(-i);
    broadcasts = w == x || w == 1;
  }
  MASKDET_CHECK(broadcasts, op, ": weight of shape ", shape_str(weight.shape()),
                " does not broadcast to the input's shape ", shape_str(input.shape()));
  return weight.detach().expand(input.shape()).contiguous();
}

// Reduces the per-element losses and records the node: d(out)/d(input) is `grad` scaled by
// the incoming gradient (and by 1 / count for a mean).
Tensor reduce_loss(const char* node_name, const Tensor& input, const Tensor& loss, const Tensor& grad,
                   Reduction reduction) {
  Tensor out;
  {
    NoGradGuard no_grad;  // loss is a fresh constant; only the node below links it to input
    switch (reduction) {
      case Reduction::None: out = loss; break;
      case Reduction::Sum: out = sum(loss); break;
      case Reduction::Mean: out = mean(loss); break;
    }
  }
  if (autograd::any_requires_grad({input})) {
    const double scale = reduction == Reduction::Mean ? 1.0 / static_cast<double>(input.numel()) : 1.0;
    record(node_name, {input}, out, [grad, scale](const Tensor& g) -> std::vector<Tensor> {
      return {mul(grad, scale == 1.0 ? g : g * scale)};
    });
  }
  return out;
}

// The dense, constant operands the kernels expect.
struct LossOperands {
  Tensor input, target, loss, grad;
};

LossOperands prepare(const Tensor& input, const Tensor& target, const char* op) {
  check_target(input, target, op);
  NoGradGuard no_grad;
  return {input.detach().contiguous(), target.detach().contiguous(), empty(input.shape(), input.options()),
          empty(input.shape(), input.options())};
}

}  // namespace

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, const Tensor& weight,
                                        Reduction reduction) {
  const char* op = "binary_cross_entropy_with_logits";
  LossOperands o = prepare(logits, targets, op);
  kernels::bce_with_logits(o.input, o.target, broadcast_weight(logits, weight, op), o.loss, o.grad);
  return reduce_loss("BinaryCrossEntropyWithLogitsBackward", logits, o.loss, o.grad, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  LossOperands o = prepare(input, target, "l1_loss");
  kernels::l1(o.input, o.target, o.loss, o.grad);
  return reduce_loss("L1LossBackward", input, o.loss, o.grad, reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, double beta, Reduction reduction) {
  MASKDET_CHECK(beta >= 0, "smooth_l1_loss: beta must be >= 0, got ", beta);
  LossOperands o = prepare(input, target, "smooth_l1_loss");
  kernels::smooth_l1(o.input, o.target, beta, o.loss, o.grad);
  return reduce_loss("SmoothL1LossBackward", input, o.loss, o.grad, reduction);
}

Tensor sigmoid_focal_loss(const Tensor& logits, const Tensor& targets, const FocalLossOptions& options,
                          const Tensor& weight, Reduction reduction) {
  const char* op = "sigmoid_focal_loss";
  MASKDET_CHECK(options.gamma >= 0, op, ": gamma must be >= 0, got ", options.gamma);
  MASKDET_CHECK(options.alpha <= 1, op, ": alpha must be in [0, 1] (or negative to disable it), got ",
                options.alpha);
  LossOperands o = prepare(logits, targets, op);
  kernels::sigmoid_focal_loss(o.input, o.target, broadcast_weight(logits, weight, op), options.alpha, options.gamma,
                              o.loss, o.grad);
  return reduce_loss("SigmoidFocalLossBackward", logits, o.loss, o.grad, reduction);
}

}  // namespace maskdet
