// The argument checks of the group normalisation kernels (tensor/kernels/group_norm.h), for
// both backends (tensor/kernels/kernel_checks.h says how they share them), and the layout of x
// they establish.
#pragma once
#include <cstdint>

#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// x viewed as (N, G, D, S): N samples, G groups of D channels, S spatial values per channel.
struct GroupNormLayout {
  int64_t batch = 0, groups = 0, channels_per_group = 0, spatial = 1;
  int64_t channels() const { return groups * channels_per_group; }
  int64_t per_group() const { return channels_per_group * spatial; }  // M
};

inline GroupNormLayout group_norm_layout(const Tensor& x, int64_t num_groups, const char* kernel, Backend backend) {
  check_device(x, x.device(), kernel, "x", backend);
  MASKDET_CHECK(x.dim() >= 2, kernel, ": x must be (N, C, *spatial), got shape ", shape_str(x.shape()));
  MASKDET_CHECK(x.is_contiguous(), kernel, ": x must be contiguous");
  MASKDET_CHECK(num_groups > 0 && x.size(1) % num_groups == 0, kernel, ": num_groups (", num_groups,
                ") must divide the ", x.size(1), " channels");
  GroupNormLayout l;
  l.batch = x.size(0);
  l.groups = num_groups;
  l.channels_per_group = x.size(1) / num_groups;
  for (int64_t d = 2; d < x.dim(); ++d) l.spatial *= x.size(d);
  return l;
}

inline GroupNormLayout check_group_norm_forward_args(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                                     int64_t num_groups, const Tensor& out, const Tensor& save_mean,
                                                     const Tensor& save_rstd, Backend backend) {
  constexpr const char* kernel = "group_norm_forward";
  const GroupNormLayout l = group_norm_layout(x, num_groups, kernel, backend);
  check_operand(out, x, x.shape(), kernel, "out", false, backend);
  check_operand(weight, x, {l.channels()}, kernel, "weight", true, backend);
  check_operand(bias, x, {l.channels()}, kernel, "bias", true, backend);
  check_operand(save_mean, x, {l.batch, l.groups}, kernel, "save_mean", false, backend);
  check_operand(save_rstd, x, {l.batch, l.groups}, kernel, "save_rstd", false, backend);
  return l;
}

inline GroupNormLayout check_group_norm_backward_args(const Tensor& grad_out, const Tensor& x, const Tensor& weight,
                                                      const Tensor& save_mean, const Tensor& save_rstd,
                                                      int64_t num_groups, const Tensor& grad_x,
                                                      const Tensor& grad_weight, const Tensor& grad_bias,
                                                      Backend backend) {
  constexpr const char* kernel = "group_norm_backward";
  const GroupNormLayout l = group_norm_layout(x, num_groups, kernel, backend);
  check_operand(grad_out, x, x.shape(), kernel, "grad_out", false, backend);
  check_operand(weight, x, {l.channels()}, kernel, "weight", true, backend);
  check_operand(save_mean, x, {l.batch, l.groups}, kernel, "save_mean", false, backend);
  check_operand(save_rstd, x, {l.batch, l.groups}, kernel, "save_rstd", false, backend);
  check_operand(grad_x, x, x.shape(), kernel, "grad_x", true, backend);
  check_operand(grad_weight, x, {l.channels()}, kernel, "grad_weight", true, backend);
  check_operand(grad_bias, x, {l.channels()}, kernel, "grad_bias", true, backend);
  return l;
}

}  // namespace maskdet::kernels
