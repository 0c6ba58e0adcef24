// The argument checks of the fused optimiser kernels (tensor/kernels/optim.h), for both backends
// (tensor/kernels/kernel_checks.h says how they share them). adamw_update's step is checked where
// its coefficients are computed (tensor/kernels/optim_math.h).
#pragma once
#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// The updates' shared contract: one shape and dtype with the parameter, contiguous; on CUDA also
// the parameter's device.
inline void check_like_param(const Tensor& t, const Tensor& param, const char* kernel, const char* what,
                             Backend backend) {
  MASKDET_CHECK(t.defined(), kernel, ": ", what, " is undefined");
  MASKDET_CHECK(t.shape() == param.shape(), kernel, ": ", what, " has shape ", shape_str(t.shape()),
                ", the parameter ", shape_str(param.shape()));
  MASKDET_CHECK(t.dtype() == param.dtype(), kernel, ": ", what, " is ", dtype_name(t.dtype()), ", the parameter ",
                dtype_name(param.dtype()));
  MASKDET_CHECK(t.is_contiguous(), kernel, ": ", what, " must be contiguous");
  check_device(t, param.device(), kernel, what, backend);
}

// momentum_buffer is read only with momentum, and may be undefined without.
inline void check_sgd_update_args(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                                  double momentum, Backend backend) {
  check_like_param(param, param, "sgd_update", "param", backend);
  check_like_param(grad, param, "sgd_update", "grad", backend);
  if (momentum != 0) check_like_param(momentum_buffer, param, "sgd_update", "momentum_buffer", backend);
}

inline void check_adamw_update_args(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                                    const Tensor& exp_avg_sq, Backend backend) {
  check_like_param(param, param, "adamw_update", "param", backend);
  check_like_param(grad, param, "adamw_update", "grad", backend);
  check_like_param(exp_avg, param, "adamw_update", "exp_avg", backend);
  check_like_param(exp_avg_sq, param, "adamw_update", "exp_avg_sq", backend);
}

inline void check_ema_update_args(const Tensor& average, const Tensor& value, double decay, Backend backend) {
  check_like_param(average, average, "ema_update", "average", backend);
  check_like_param(value, average, "ema_update", "value", backend);
  MASKDET_CHECK(decay >= 0 && decay <= 1, "ema_update: decay must be in [0, 1], got ", decay);
}

inline void check_norm_partial_args(const Tensor& x, double norm_type, const Tensor& out, Backend backend) {
  check_device(x.device(), "norm_partial", {{&x, "x"}, {&out, "out"}}, backend);
  MASKDET_CHECK(x.is_contiguous(), "norm_partial: x must be contiguous");
  MASKDET_CHECK(out.dtype() == DType::Float64 && out.numel() == 1,
                "norm_partial: out must be one float64 element, got ", dtype_name(out.dtype()), " ",
                shape_str(out.shape()));
  MASKDET_CHECK(norm_type > 0, "norm_partial: norm_type must be positive, got ", norm_type);
}

}  // namespace maskdet::kernels
