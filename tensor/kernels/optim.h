// Fused optimiser kernels: each reads a parameter, its gradient and its state once and writes
// the updated parameter and state in the same pass, with exactly the arithmetic of
// torch.optim.SGD and torch.optim.AdamW (PyTorch 1.13, single-tensor path, maximize=False).
// Also the one reduction gradient clipping needs (torch.nn.utils.clip_grad_norm_).
//
// Shared contract: param, grad and every state buffer have one shape and one dtype (float32
// or float64), are contiguous and live on param's device. Scalars are hyper-parameters already
// validated by the optimiser (layers/optim/).
#pragma once
#include <cstdint>

#include "tensor/kernels/dispatch.h"

namespace maskdet {

// torch.optim.SGD for one parameter:
//   d = grad + weight_decay * param                     (skipped when weight_decay == 0)
//   if momentum != 0:
//     buf = first_step ? d : momentum * buf + (1 - dampening) * d
//     d = nesterov ? d + momentum * buf : buf
//   param = param - lr * d
// The buffer starts as the (decayed) gradient itself, without dampening, so a fresh run and
// PyTorch agree from the first step.
// param: (*), UPDATED IN PLACE. grad: (*), read only. momentum_buffer: (*), UPDATED IN PLACE
// (OVERWRITTEN when first_step); may be undefined when momentum == 0.
MASKDET_KERNEL(sgd_update,
               (const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov, bool first_step),
               param.device(), param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
               first_step)

// torch.optim.AdamW for one parameter (Loshchilov & Hutter 2019, "Decoupled Weight Decay
// Regularization", algorithm 2), `step` being this update's 1-based count:
//   param   = param * (1 - lr * weight_decay)           (decoupled: the gradient never sees it)
//   exp_avg = beta1 * exp_avg + (1 - beta1) * grad
//   exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad^2
//   denom   = sqrt(exp_avg_sq) / sqrt(1 - beta2^step) + eps
//   param   = param - lr / (1 - beta1^step) * exp_avg / denom
// eps is added after the bias correction, as PyTorch does, not inside the square root.
// param, exp_avg, exp_avg_sq: (*), UPDATED IN PLACE (zeros before the first step).
// grad: (*), read only. step >= 1.
MASKDET_KERNEL(adamw_update,
               (const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq, double lr,
                double beta1, double beta2, double eps, double weight_decay, int64_t step),
               param.device(), param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step)

// An exponential moving average of a weight (Polyak averaging as timm's ModelEmaV2 and
// TensorFlow's ExponentialMovingAverage keep it), one step:
//   average = decay * average + (1 - decay) * value
// average: (*), UPDATED IN PLACE. value: (*), read only. 0 <= decay <= 1.
MASKDET_KERNEL(ema_update, (const Tensor& average, const Tensor& value, double decay), average.device(), average,
               value, decay)

// The part of a p-norm that adds across tensors: out = sum |x|^norm_type, or max |x| when
// norm_type is +infinity (0 for an empty x). Accumulates in double, in a summation order that
// does not depend on the thread count, so a clipped run repeats bit for bit.
// x: (*), float32 or float64, contiguous. out: (1), float64, on x's device. OVERWRITES out.
MASKDET_KERNEL(norm_partial, (const Tensor& x, double norm_type, const Tensor& out), x.device(), x, norm_type, out)

}  // namespace maskdet
