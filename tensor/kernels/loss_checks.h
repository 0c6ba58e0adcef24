// The argument checks of the fused loss kernels (tensor/kernels/loss.h), for both backends
// (tensor/kernels/kernel_checks.h says how they share them).
#pragma once
#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// An operand that goes with the prediction: its shape and dtype; on CUDA also its device.
inline void check_loss_operand(const Tensor& t, const Tensor& pred, const char* kernel, const char* what,
                               Backend backend) {
  check_same_shape(t, pred.shape(), kernel, what);
  MASKDET_CHECK(t.dtype() == pred.dtype(), kernel, ": ", what, " is ", dtype_name(t.dtype()), ", prediction is ",
                dtype_name(pred.dtype()));
  check_device(t, pred.device(), kernel, what, backend);
}

// Every loss kernel's tensors: pred (the logits), target, loss, grad and an optional weight.
inline void check_loss_args(const char* kernel, const Tensor& pred, const Tensor& target, const Tensor& weight,
                            const Tensor& loss, const Tensor& grad, Backend backend) {
  if (backend == Backend::Cuda)
    MASKDET_CHECK(pred.is_cuda(), kernel, ": the CUDA kernel got a prediction on ", pred.device().str());
  check_loss_operand(target, pred, kernel, "target", backend);
  check_loss_operand(loss, pred, kernel, "loss", backend);
  check_loss_operand(grad, pred, kernel, "grad", backend);
  if (weight.defined()) check_loss_operand(weight, pred, kernel, "weight", backend);
}

inline void check_smooth_l1_beta(double beta) {
  MASKDET_CHECK(beta >= 0, "smooth_l1: beta must be >= 0, got ", beta);
}

inline void check_focal_gamma(double gamma) {
  MASKDET_CHECK(gamma >= 0, "sigmoid_focal_loss: gamma must be >= 0, got ", gamma);
}

}  // namespace maskdet::kernels
