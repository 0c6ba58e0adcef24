// CUDA loss kernels: the fused per-element loss + gradient of tensor/kernels/loss.h (contract
// there), one thread per element through the strided launcher of cuda/kernels/strided.cuh
// (so broadcast and permuted operands work as on the CPU). The formulas, their stable evaluation
// (sigmoid(x), sigmoid(-x) and log(1 + exp(-|x|)) all from exp(-|x|)) and the ignored-element
// rule mirror tensor/cpu/loss.cpp step for step, so the two backends differ only by the
// rounding of exp / log1p / pow (CUDA C++ Programming Guide, "Mathematical Functions": a few
// ulp) and, outside the BCE core, by nvcc fusing a multiply and an add into one FMA.
#include "cuda/kernels/rounding.cuh"
#include "cuda/kernels/strided.cuh"
#include "tensor/kernels/loss.h"
#include "tensor/kernels/loss_checks.h"

namespace maskdet::cuda {
namespace {

enum class LossKind { Bce, L1, SmoothL1, Focal };

struct LossParams {
  double beta = 0, alpha = 0, gamma = 0;
};

// ---- device math, overloaded so one template serves float and double ----
__device__ inline float dev_exp(float x) { return expf(x); }
__device__ inline double dev_exp(double x) { return exp(x); }
__device__ inline float dev_log1p(float x) { return log1pf(x); }
__device__ inline double dev_log1p(double x) { return log1p(x); }
__device__ inline float dev_pow(float x, float y) { return powf(x, y); }
__device__ inline double dev_pow(double x, double y) { return pow(x, y); }
__device__ inline float dev_abs(float x) { return fabsf(x); }
__device__ inline double dev_abs(double x) { return fabs(x); }

template <class T>
struct LogitTerms {
  T p;        // sigmoid(x)
  T q;        // sigmoid(-x), without the rounding of 1 - p
  T log1p_e;  // log(1 + exp(-|x|))
};

template <class T>
__device__ LogitTerms<T> logit_terms(T x) {
  const T e = dev_exp(-dev_abs(x));
  const T large = T(1) / (T(1) + e), small = e / (T(1) + e);
  const T l = dev_log1p(e);
  return x >= T(0) ? LogitTerms<T>{large, small, l} : LogitTerms<T>{small, large, l};
}

// dce/dx = p - t written as p (1 - t) - q t: exact for hard targets, as on the CPU. Rounded
// operation by operation (no FMA), so that ce and dce are the same numbers in every kernel
// that inlines this (bce_with_logits and the focal loss with gamma 0 agree to the bit, as the
// header promises) and as close to the CPU's as exp and log1p allow.
template <class T>
__device__ void bce_element(T x, T t, const LogitTerms<T>& s, T& ce, T& dce) {
  ce = add_rn(sub_rn(x > T(0) ? x : T(0), mul_rn(x, t)), s.log1p_e);
  dce = sub_rn(mul_rn(s.p, T(1) - t), mul_rn(s.q, t));
}

template <class T>
__device__ T sign_of(T d) {
  return T((d > T(0)) - (d < T(0)));
}

// One element's unweighted loss and gradient.
template <class T, LossKind kKind>
__device__ void loss_element(T x, T t, const LossParams& params, T& l, T& g) {
  if constexpr (kKind == LossKind::Bce) {
    bce_element(x, t, logit_terms(x), l, g);
  } else if constexpr (kKind == LossKind::L1) {
    const T d = x - t;
    l = dev_abs(d);
    g = sign_of(d);
  } else if constexpr (kKind == LossKind::SmoothL1) {
    const T d = x - t, b = T(params.beta);
    if (dev_abs(d) < b) {
      l = T(0.5) * d * d / b;
      g = d / b;
    } else {
      l = dev_abs(d) - T(0.5) * b;
      g = sign_of(d);
    }
  } else {
    const double alpha = params.alpha, gamma = params.gamma;
    const LogitTerms<T> s = logit_terms(x);
    T ce, dce;
    bce_element(x, t, s, ce, dce);
    // m = 1 - p_t as a sum of two non-negative terms: no cancellation near p_t = 1.
    const T m = s.p * (T(1) - t) + s.q * t;
    const T modulator = gamma == 0 ? T(1) : dev_pow(m, T(gamma));
    // At m = 0 (gamma > 0) the limit of d(m^gamma)/dx * ce is 0, and m^(gamma - 1) alone
    // would give 0 * inf for gamma < 1.
    const T dmodulator =
        (gamma == 0 || m == T(0)) ? T(0) : T(gamma) * dev_pow(m, T(gamma - 1)) * (T(1) - T(2) * t) * s.p * s.q;
    const T alpha_t = alpha < 0 ? T(1) : T(alpha) * t + T(1 - alpha) * (T(1) - t);
    l = alpha_t * (modulator * ce);
    g = alpha_t * (modulator * dce + dmodulator * ce);
  }
}

// Operand order of the offsets: prediction, target, loss, grad, weight.
constexpr int kOperands = 5;

// One element: off[k] is operand k's element offset. weight may be null (weight 1).
template <class T, LossKind kKind>
struct LossOp {
  const T* pred;    // (*)
  const T* target;  // (*)
  const T* weight;  // (*) or null
  T* loss;          // (*)
  T* grad;          // (*)
  LossParams params;

  __device__ void operator()(const int64_t (&off)[kOperands]) const {
    T l, g;
    if (!weight) {
      loss_element<T, kKind>(pred[off[0]], target[off[1]], params, l, g);
      loss[off[2]] = l;
      grad[off[3]] = g;
      return;
    }
    const T w = weight[off[4]];
    // Ignored elements never evaluate the loss: exact zeros even for inf / nan inputs.
    if (w == T(0)) {
      loss[off[2]] = T(0);
      grad[off[3]] = T(0);
      return;
    }
    loss_element<T, kKind>(pred[off[0]], target[off[1]], params, l, g);
    loss[off[2]] = w * l;
    grad[off[3]] = w * g;
  }
};

template <LossKind kKind>
void pointwise_loss(const char* kernel, const Tensor& pred, const Tensor& target, const Tensor& weight,
                    const Tensor& loss, const Tensor& grad, const LossParams& params) {
  kernels::check_loss_args(kernel, pred, target, weight, loss, grad, Backend::Cuda);
  dispatch_floating(pred.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const T* wp = weight.defined() ? weight.data_ptr<T>() : nullptr;
    const LossOp<T, kKind> op{pred.data_ptr<T>(), target.data_ptr<T>(), wp, loss.data_ptr<T>(), grad.data_ptr<T>(),
                              params};
    // Without a weight its slot walks the prediction's strides, which merges no fewer dims.
    const Tensor& weight_layout = weight.defined() ? weight : pred;
    launch_strided<kOperands>(pred.shape(),
                              {&pred.strides(), &target.strides(), &loss.strides(), &grad.strides(),
                               &weight_layout.strides()},
                              op, kernel);
  });
}

}  // namespace

void bce_with_logits(const Tensor& logits, const Tensor& targets, const Tensor& weight, const Tensor& loss,
                     const Tensor& grad) {
  pointwise_loss<LossKind::Bce>("bce_with_logits", logits, targets, weight, loss, grad, {});
}

void l1(const Tensor& pred, const Tensor& target, const Tensor& loss, const Tensor& grad) {
  pointwise_loss<LossKind::L1>("l1", pred, target, Tensor(), loss, grad, {});
}

void smooth_l1(const Tensor& pred, const Tensor& target, double beta, const Tensor& loss, const Tensor& grad) {
  kernels::check_smooth_l1_beta(beta);
  pointwise_loss<LossKind::SmoothL1>("smooth_l1", pred, target, Tensor(), loss, grad, {beta, 0, 0});
}

void sigmoid_focal_loss(const Tensor& logits, const Tensor& targets, const Tensor& weight, double alpha, double gamma,
                        const Tensor& loss, const Tensor& grad) {
  kernels::check_focal_gamma(gamma);
  pointwise_loss<LossKind::Focal>("sigmoid_focal_loss", logits, targets, weight, loss, grad, {0, alpha, gamma});
}

}  // namespace maskdet::cuda
