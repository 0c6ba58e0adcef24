// CPU loss kernels: each element's loss and its derivative in one pass (contract in
// tensor/kernels/loss.h). The logit losses are built from sigmoid(x), sigmoid(-x) and
// log(1 + exp(-|x|)), each evaluated without cancellation, so nothing overflows or turns
// into log(0) for large |x|.
#include <cmath>

#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/loss.h"
#include "tensor/kernels/loss_checks.h"

namespace maskdet::cpu {
namespace {

// The stable pieces of a logit x.
template <class T>
struct LogitTerms {
  T p;         // sigmoid(x)
  T q;         // sigmoid(-x) = 1 - p, without the rounding of 1 - p
  T log1p_e;   // log(1 + exp(-|x|))
};

template <class T>
LogitTerms<T> logit_terms(T x) {
  const T e = std::exp(-std::abs(x));
  const T large = T(1) / (T(1) + e), small = e / (T(1) + e);
  const T l = std::log1p(e);
  return x >= T(0) ? LogitTerms<T>{large, small, l} : LogitTerms<T>{small, large, l};
}

// BCE with logits: ce = softplus(x) - x t, and dce/dx = p - t written as p (1 - t) - q t,
// which is exact for hard targets (t = 1 gives -q, never 1 - p rounded).
template <class T>
void bce_element(T x, T t, const LogitTerms<T>& s, T& ce, T& dce) {
  ce = (x > T(0) ? x : T(0)) - x * t + s.log1p_e;
  dce = s.p * (T(1) - t) - s.q * t;
}

// Runs element(x, t, loss, grad) over every element; with a weight, scales both by it and
// writes exact zeros where it is 0 (ignored elements never evaluate the loss).
template <class Element>
void pointwise_loss(const char* kernel, const Tensor& pred, const Tensor& target, const Tensor& weight,
                    const Tensor& loss, const Tensor& grad, const Element& element) {
  kernels::check_loss_args(kernel, pred, target, weight, loss, grad, Backend::Cpu);
  dispatch_floating(pred.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const T* xp = pred.data_ptr<T>();
    const T* tp = target.data_ptr<T>();
    T* lp = loss.data_ptr<T>();
    T* gp = grad.data_ptr<T>();
    if (!weight.defined()) {
      for_each_offset<4>(pred.shape(), {pred.strides(), target.strides(), loss.strides(), grad.strides()},
                         [&](const std::array<int64_t, 4>& o) { element(xp[o[0]], tp[o[1]], lp[o[2]], gp[o[3]]); });
      return;
    }
    const T* wp = weight.data_ptr<T>();
    for_each_offset<5>(pred.shape(),
                       {pred.strides(), target.strides(), loss.strides(), grad.strides(), weight.strides()},
                       [&](const std::array<int64_t, 5>& o) {
                         const T w = wp[o[4]];
                         if (w == T(0)) {
                           lp[o[2]] = T(0);
                           gp[o[3]] = T(0);
                           return;
                         }
                         T l, g;
                         element(xp[o[0]], tp[o[1]], l, g);
                         lp[o[2]] = w * l;
                         gp[o[3]] = w * g;
                       });
  });
}

template <class T>
T sign(T d) {
  return T((d > T(0)) - (d < T(0)));
}

}  // namespace

void bce_with_logits(const Tensor& logits, const Tensor& targets, const Tensor& weight, const Tensor& loss,
                     const Tensor& grad) {
  pointwise_loss("bce_with_logits", logits, targets, weight, loss, grad, [](auto x, auto t, auto& l, auto& g) {
    bce_element(x, t, logit_terms(x), l, g);
  });
}

void l1(const Tensor& pred, const Tensor& target, const Tensor& loss, const Tensor& grad) {
  pointwise_loss("l1", pred, target, Tensor(), loss, grad, [](auto p, auto t, auto& l, auto& g) {
    const auto d = p - t;
    l = std::abs(d);
    g = sign(d);
  });
}

void smooth_l1(const Tensor& pred, const Tensor& target, double beta, const Tensor& loss, const Tensor& grad) {
  kernels::check_smooth_l1_beta(beta);
  pointwise_loss("smooth_l1", pred, target, Tensor(), loss, grad, [beta](auto p, auto t, auto& l, auto& g) {
    using T = decltype(p);
    const T d = p - t, b = T(beta);
    if (std::abs(d) < b) {
      l = T(0.5) * d * d / b;
      g = d / b;
    } else {
      l = std::abs(d) - T(0.5) * b;
      g = sign(d);
    }
  });
}

void sigmoid_focal_loss(const Tensor& logits, const Tensor& targets, const Tensor& weight, double alpha, double gamma,
                        const Tensor& loss, const Tensor& grad) {
  kernels::check_focal_gamma(gamma);
  pointwise_loss("sigmoid_focal_loss", logits, targets, weight, loss, grad,
                 [alpha, gamma](auto x, auto t, auto& l, auto& g) {
                   using T = decltype(x);
                   const LogitTerms<T> s = logit_terms(x);
                   T ce, dce;
                   bce_element(x, t, s, ce, dce);
                   // m = 1 - p_t as a sum of two non-negative terms: no cancellation near p_t = 1.
                   const T m = s.p * (T(1) - t) + s.q * t;
                   const T modulator = gamma == 0 ? T(1) : std::pow(m, T(gamma));
                   // d(m^gamma)/dx; at m = 0 (gamma > 0) its limit times ce is 0, and
                   // m^(gamma - 1) alone would be 0 * inf for gamma < 1.
                   const T dmodulator = (gamma == 0 || m == T(0))
                                            ? T(0)
                                            : T(gamma) * std::pow(m, T(gamma - 1)) * (T(1) - T(2) * t) * s.p * s.q;
                   const T alpha_t = alpha < 0 ? T(1) : T(alpha) * t + T(1 - alpha) * (T(1) - t);
                   l = alpha_t * (modulator * ce);
                   g = alpha_t * (modulator * dce + dmodulator * ce);
                 });
}

}  // namespace maskdet::cpu
