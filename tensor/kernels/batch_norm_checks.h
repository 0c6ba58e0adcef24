// The argument checks of the batch normalisation kernels (tensor/kernels/batch_norm.h), for
// both backends (tensor/kernels/kernel_checks.h says how they share them), and the layout of x
// they establish. The CUDA kernels check what cuDNN adds (dtype, eps) after these.
#pragma once
#include <cstdint>

#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// x viewed as (N, C, S), S the product of the spatial dims: channel c's values are the N runs
// x[(n * C + c) * S .. + S).
struct BatchNormLayout {
  int64_t batch = 0, channels = 0, spatial = 1;
  int64_t per_channel() const { return batch * spatial; }  // M
};

inline BatchNormLayout batch_norm_layout(const Tensor& x, const char* kernel, Backend backend) {
  check_device(x, x.device(), kernel, "x", backend);
  MASKDET_CHECK(x.dim() >= 2, kernel, ": x must be (N, C) or (N, C, H, W), got shape ", shape_str(x.shape()));
  MASKDET_CHECK(x.is_contiguous(), kernel, ": x must be contiguous");
  BatchNormLayout l;
  l.batch = x.size(0);
  l.channels = x.size(1);
  for (int64_t d = 2; d < x.dim(); ++d) l.spatial *= x.size(d);
  return l;
}

// An operand of x's shape: both backends walk it with x's flat indices, so it must be dense too.
inline void check_batch_norm_x_operand(const Tensor& t, const Tensor& x, const char* kernel, const char* what,
                                       bool optional, Backend backend) {
  check_operand(t, x, x.shape(), kernel, what, optional, backend);
  if (t.defined()) MASKDET_CHECK(t.is_contiguous(), kernel, ": ", what, " must be contiguous");
}

// The operands both forwards share: x, its optional affine parameters, the output and the
// running statistics, which training may go without.
inline BatchNormLayout check_batch_norm_forward_operands(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                                         const Tensor& running_mean, const Tensor& running_var,
                                                         const Tensor& out, bool training, const char* kernel,
                                                         Backend backend) {
  const BatchNormLayout l = batch_norm_layout(x, kernel, backend);
  check_batch_norm_x_operand(out, x, kernel, "out", false, backend);
  check_operand(weight, x, {l.channels}, kernel, "weight", true, backend);
  check_operand(bias, x, {l.channels}, kernel, "bias", true, backend);
  check_operand(running_mean, x, {l.channels}, kernel, "running_mean", training, backend);
  check_operand(running_var, x, {l.channels}, kernel, "running_var", training, backend);
  return l;
}

inline BatchNormLayout check_batch_norm_forward_training_args(const Tensor& x, const Tensor& weight,
                                                              const Tensor& bias, const Tensor& running_mean,
                                                              const Tensor& running_var, const Tensor& out,
                                                              const Tensor& save_mean, const Tensor& save_invstd,
                                                              Backend backend) {
  constexpr const char* kernel = "batch_norm_forward_training";
  const BatchNormLayout l =
      check_batch_norm_forward_operands(x, weight, bias, running_mean, running_var, out, true, kernel, backend);
  check_operand(save_mean, x, {l.channels}, kernel, "save_mean", false, backend);
  check_operand(save_invstd, x, {l.channels}, kernel, "save_invstd", false, backend);
  // The unbiased variance of the running update divides by M - 1.
  MASKDET_CHECK(l.per_channel() > 1, kernel, ": needs more than one value per channel, got x of shape ",
                shape_str(x.shape()));
  return l;
}

inline BatchNormLayout check_batch_norm_forward_inference_args(const Tensor& x, const Tensor& weight,
                                                               const Tensor& bias, const Tensor& running_mean,
                                                               const Tensor& running_var, const Tensor& out,
                                                               Backend backend) {
  return check_batch_norm_forward_operands(x, weight, bias, running_mean, running_var, out, false,
                                           "batch_norm_forward_inference", backend);
}

inline BatchNormLayout check_batch_norm_backward_args(const Tensor& grad_out, const Tensor& x, const Tensor& weight,
                                                      const Tensor& save_mean, const Tensor& save_invstd,
                                                      const Tensor& grad_x, const Tensor& grad_weight,
                                                      const Tensor& grad_bias, Backend backend) {
  constexpr const char* kernel = "batch_norm_backward";
  const BatchNormLayout l = batch_norm_layout(x, kernel, backend);
  check_batch_norm_x_operand(grad_out, x, kernel, "grad_out", false, backend);
  check_batch_norm_x_operand(grad_x, x, kernel, "grad_x", true, backend);
  check_operand(weight, x, {l.channels}, kernel, "weight", true, backend);
  check_operand(save_mean, x, {l.channels}, kernel, "save_mean", false, backend);
  check_operand(save_invstd, x, {l.channels}, kernel, "save_invstd", false, backend);
  check_operand(grad_weight, x, {l.channels}, kernel, "grad_weight", true, backend);
  check_operand(grad_bias, x, {l.channels}, kernel, "grad_bias", true, backend);
  return l;
}

}  // namespace maskdet::kernels
