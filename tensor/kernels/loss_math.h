// The scalar maths of the loss kernels (tensor/kernels/loss.h): one element's loss and its
// derivative, written once for the CPU kernels (tensor/cpu/loss.cpp) and the CUDA ones
// (cuda/kernels/loss.cu), so the two backends cannot drift apart. Plain C maths only: it has to
// compile as device code under nvcc.
//
// The logit losses are built from sigmoid(x), sigmoid(-x) and log(1 + exp(-|x|)), each
// evaluated without cancellation, so nothing overflows or turns into log(0) for large |x|
// (the sigmoid focal loss of Lin et al. 2017, "Focal Loss for Dense Object Detection", on top of
// binary cross-entropy with logits).
#pragma once
#include "tensor/kernels/scalar_math.h"

namespace maskdet::kernels::loss_math {

using scalar_math::absolute;
using scalar_math::add_rn;
using scalar_math::exponential;
using scalar_math::log_one_plus;
using scalar_math::mul_rn;
using scalar_math::power;
using scalar_math::sub_rn;

// The stable pieces of a logit x.
template <class T>
struct LogitTerms {
  T p;        // sigmoid(x)
  T q;        // sigmoid(-x) = 1 - p, without the rounding of 1 - p
  T log1p_e;  // log(1 + exp(-|x|))
};

template <class T>
MASKDET_SCALAR_HD inline LogitTerms<T> logit_terms(T x) {
  const T e = exponential(-absolute(x));
  const T large = T(1) / (T(1) + e), small = e / (T(1) + e);
  const T l = log_one_plus(e);
  return x >= T(0) ? LogitTerms<T>{large, small, l} : LogitTerms<T>{small, large, l};
}

// BCE with logits: ce = softplus(x) - x t, and dce/dx = p - t written as p (1 - t) - q t, which
// is exact for hard targets (t = 1 gives -q, never 1 - p rounded). Rounded operation by
// operation, so that ce and dce are the same numbers in every kernel that inlines this
// (bce_with_logits and the focal loss with gamma 0 agree to the bit, as loss.h promises).
template <class T>
MASKDET_SCALAR_HD inline void bce_element(T x, T t, const LogitTerms<T>& s, T& ce, T& dce) {
  ce = add_rn(sub_rn(x > T(0) ? x : T(0), mul_rn(x, t)), s.log1p_e);
  dce = sub_rn(mul_rn(s.p, T(1) - t), mul_rn(s.q, t));
}

template <class T>
MASKDET_SCALAR_HD inline T sign(T d) {
  return T((d > T(0)) - (d < T(0)));
}

// |p - t| and its derivative (0 at p = t, as torch.sign).
template <class T>
MASKDET_SCALAR_HD inline void l1_element(T p, T t, T& l, T& g) {
  const T d = p - t;
  l = absolute(d);
  g = sign(d);
}

// 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0: L1).
template <class T>
MASKDET_SCALAR_HD inline void smooth_l1_element(T p, T t, double beta, T& l, T& g) {
  const T d = p - t, b = T(beta);
  if (absolute(d) < b) {
    l = T(0.5) * d * d / b;
    g = d / b;
  } else {
    l = absolute(d) - T(0.5) * b;
    g = sign(d);
  }
}

// alpha_t (1 - p_t)^gamma ce and its derivative; alpha < 0 turns the alpha weighting off.
template <class T>
MASKDET_SCALAR_HD inline void focal_element(T x, T t, double alpha, double gamma, T& l, T& g) {
  const LogitTerms<T> s = logit_terms(x);
  T ce, dce;
  bce_element(x, t, s, ce, dce);
  // m = 1 - p_t as a sum of two non-negative terms: no cancellation near p_t = 1.
  const T m = s.p * (T(1) - t) + s.q * t;
  const T modulator = gamma == 0 ? T(1) : power(m, T(gamma));
  // d(m^gamma)/dx; at m = 0 (gamma > 0) its limit times ce is 0, and m^(gamma - 1) alone would
  // be 0 * inf for gamma < 1.
  const T dmodulator =
      (gamma == 0 || m == T(0)) ? T(0) : T(gamma) * power(m, T(gamma - 1)) * (T(1) - T(2) * t) * s.p * s.q;
  const T alpha_t = alpha < 0 ? T(1) : T(alpha) * t + T(1 - alpha) * (T(1) - t);
  l = alpha_t * (modulator * ce);
  g = alpha_t * (modulator * dce + dmodulator * ce);
}

}  // namespace maskdet::kernels::loss_math

