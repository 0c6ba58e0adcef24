// The arithmetic of the fused optimiser kernels (tensor/kernels/optim.h), written once for both
// backends (tensor/cpu/optim.cpp, cuda/kernels/optim.cu); their argument checks are in
// tensor/kernels/optim_checks.h.
//
// Every element is widened to double, and each operation rounds once, in the order written:
// on the GPU through the __dmul_rn / __dadd_rn / __ddiv_rn / __dsqrt_rn intrinsics, which nvcc
// never fuses into a multiply-add, on the host through plain operators (the CPU build does not
// contract, -ffp-contract=off being GCC's default in ISO C++ mode). So both backends produce the
// same bits.
#pragma once
#include <math.h>

#include "tensor/tensor.h"

#if defined(__CUDACC__)
#define MASKDET_OPTIM_HD __host__ __device__
#else
#define MASKDET_OPTIM_HD
#endif

namespace maskdet::kernels::optim_math {

MASKDET_OPTIM_HD inline double mul(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
MASKDET_OPTIM_HD inline double add(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
MASKDET_OPTIM_HD inline double divide(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __ddiv_rn(a, b);
#else
  return a / b;
#endif
}
MASKDET_OPTIM_HD inline double square_root(double a) {
#if defined(__CUDA_ARCH__)
  return __dsqrt_rn(a);
#else
  return ::sqrt(a);
#endif
}

// torch.optim.SGD on one element (optim.h has the formulas). buf is null without momentum.
template <class T>
MASKDET_OPTIM_HD inline void sgd_step(T& p, T g, T* buf, double lr, double momentum, double dampening,
                                      double weight_decay, bool nesterov, bool first_step) {
  const double pi = p;
  double d = g;
  if (weight_decay != 0) d = add(d, mul(weight_decay, pi));
  if (buf) {
    const double b = first_step ? d : add(mul(static_cast<double>(*buf), momentum), mul(1 - dampening, d));
    *buf = static_cast<T>(b);
    // Nesterov looks ahead with the buffer as stored, as PyTorch reads it back.
    const double stored = static_cast<double>(*buf);
    d = nesterov ? add(d, mul(momentum, stored)) : stored;
  }
  p = static_cast<T>(add(pi, mul(-lr, d)));
}

// AdamW's per-step scalars, computed once per tensor on the host.
struct AdamWCoefficients {
  double decay;                  // 1 - lr * weight_decay
  double beta1, beta2, eps;
  double bias_correction2_sqrt;  // sqrt(1 - beta2^step)
  double neg_step_size;          // -lr / (1 - beta1^step)
};

inline AdamWCoefficients adamw_coefficients(double lr, double beta1, double beta2, double eps, double weight_decay,
                                            int64_t step) {
  MASKDET_CHECK(step >= 1, "adamw_update: step is ", step, ", the first update is step 1");
  const double bias_correction1 = 1 - ::pow(beta1, static_cast<double>(step));
  return {1 - lr * weight_decay, beta1, beta2, eps, ::sqrt(1 - ::pow(beta2, static_cast<double>(step))),
          -(lr / bias_correction1)};
}

// torch.optim.AdamW on one element.
template <class T>
MASKDET_OPTIM_HD inline void adamw_step(T& p, T g, T& m, T& v, const AdamWCoefficients& c) {
  const double gi = g;
  const double pi = mul(static_cast<double>(p), c.decay);
  m = static_cast<T>(add(mul(static_cast<double>(m), c.beta1), mul(1 - c.beta1, gi)));
  v = static_cast<T>(add(mul(static_cast<double>(v), c.beta2), mul(mul(1 - c.beta2, gi), gi)));
  const double denom = add(divide(square_root(static_cast<double>(v)), c.bias_correction2_sqrt), c.eps);
  p = static_cast<T>(add(pi, divide(mul(c.neg_step_size, static_cast<double>(m)), denom)));
}

// ema_update on one element (optim.h has the formula).
template <class T>
MASKDET_OPTIM_HD inline void ema_step(T& average, T value, double decay) {
  average = static_cast<T>(add(mul(decay, static_cast<double>(average)), mul(1 - decay, static_cast<double>(value))));
}

// One element's share of norm_partial: |x|^p, or |x| itself for the max (p = infinity).
MASKDET_OPTIM_HD inline double norm_term(double x, double norm_type, bool is_max) {
  const double a = ::fabs(x);
  if (is_max) return a;
  return norm_type == 2 ? a * a : (norm_type == 1 ? a : ::pow(a, norm_type));
}

// The max of norm_partial, NaN winning as in torch.max: once acc is NaN nothing replaces it.
MASKDET_OPTIM_HD inline double nan_max(double acc, double v) { return (v > acc || v != v) ? v : acc; }

}  // namespace maskdet::kernels::optim_math

#undef MASKDET_OPTIM_HD
