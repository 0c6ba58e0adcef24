// Fused per-element loss kernels: one pass writes each element's loss AND the derivative of
// that loss with respect to the prediction, so the backward needs no second look at the
// inputs. The caller (autograd/ops/loss.cpp) reduces and normalises.
//
// Shared contract: every tensor argument has the prediction's shape (stride-0 broadcast
// views are fine) and dtype (float32 or float64), and all live on one device. Each kernel
// OVERWRITES `loss` and `grad`. An optional `weight` may be an undefined Tensor (weight 1);
// where weight == 0 the element is ignored: its loss and grad are written as exactly 0, even
// when the unweighted value would not be finite.
#pragma once
#include "tensor/kernels/dispatch.h"

namespace maskdet {

// Binary cross-entropy on logits, stable for any |logit|:
//   loss = w * (max(x, 0) - x t + log(1 + exp(-|x|))),  grad = w * (sigmoid(x) - t).
// logits, targets, loss, grad: (*); weight: (*) or undefined. Targets may be soft, in [0, 1].
MASKDET_KERNEL(bce_with_logits,
               (const Tensor& logits, const Tensor& targets, const Tensor& weight, const Tensor& loss,
                const Tensor& grad),
               logits.device(), logits, targets, weight, loss, grad)

// loss = |p - t|, grad = sign(p - t) (0 where p == t, as PyTorch).
// pred, target, loss, grad: (*).
MASKDET_KERNEL(l1, (const Tensor& pred, const Tensor& target, const Tensor& loss, const Tensor& grad),
               pred.device(), pred, target, loss, grad)

// d = p - t; loss = 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta; grad = d / beta or
// sign(d). beta >= 0; beta = 0 is exactly l1. pred, target, loss, grad: (*).
MASKDET_KERNEL(smooth_l1,
               (const Tensor& pred, const Tensor& target, double beta, const Tensor& loss, const Tensor& grad),
               pred.device(), pred, target, beta, loss, grad)

// Sigmoid focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection", eq. 5), in
// torchvision's form for soft targets t in [0, 1], with p = sigmoid(x):
//   ce = bce_with_logits(x, t),  m = 1 - p_t = p (1 - t) + (1 - p) t,
//   alpha_t = alpha t + (1 - alpha)(1 - t)  (1 when alpha < 0),
//   loss = w * alpha_t * m^gamma * ce.
// grad is the analytic derivative (dm/dx = (1 - 2t) p (1 - p), dce/dx = p - t):
//   grad = w * alpha_t * (m^gamma (p - t) + gamma m^(gamma - 1) (1 - 2t) p (1 - p) ce).
// gamma >= 0; gamma = 0 with alpha < 0 is bce_with_logits bit for bit.
// logits, targets, loss, grad: (*); weight: (*) or undefined.
MASKDET_KERNEL(sigmoid_focal_loss,
               (const Tensor& logits, const Tensor& targets, const Tensor& weight, double alpha, double gamma,
                const Tensor& loss, const Tensor& grad),
               logits.device(), logits, targets, weight, alpha, gamma, loss, grad)

}  // namespace maskdet
