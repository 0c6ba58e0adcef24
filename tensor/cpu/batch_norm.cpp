// CPU batch normalisation: forward with batch statistics (updating the running ones),
// forward with running statistics, and the training-mode backward. Each channel is an
// independent job, so the loops run in parallel over channels.
#include <cmath>

#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/batch_norm.h"
#include "tensor/kernels/batch_norm_checks.h"

namespace maskdet::cpu {

namespace {

using kernels::BatchNormLayout;

// Calls body(offset) for every element of channel c, in memory order.
template <class Body>
inline void for_each_in_channel(const BatchNormLayout& l, int64_t c, const Body& body) {
  for (int64_t n = 0; n < l.batch; ++n) {
    const int64_t base = (n * l.channels + c) * l.spatial;
    for (int64_t s = 0; s < l.spatial; ++s) body(base + s);
  }
}

// out = (x - mean) * invstd * weight_c + bias_c over channel c, folded into one multiply-add;
// both forwards end with it. wp, bp may be null (no affine).
template <class T>
void normalize_channel(const BatchNormLayout& l, int64_t c, const T* xp, T* op, const T* wp, const T* bp, double mean,
                       double invstd) {
  const double scale = (wp ? static_cast<double>(wp[c]) : 1.0) * invstd;
  const double shift = (bp ? static_cast<double>(bp[c]) : 0.0) - mean * scale;
  for_each_in_channel(l, c, [&](int64_t i) { op[i] = static_cast<T>(static_cast<double>(xp[i]) * scale + shift); });
}

}  // namespace

void batch_norm_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                 const Tensor& running_mean, const Tensor& running_var, double momentum, double eps,
                                 const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd) {
  const BatchNormLayout l = kernels::check_batch_norm_forward_training_args(
      x, weight, bias, running_mean, running_var, out, save_mean, save_invstd, Backend::Cpu);
  const int64_t m = l.per_channel();
  dispatch_floating(x.dtype(), "batch_norm_forward_training", [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    const T* wp = ptr_or_null<T>(weight);
    const T* bp = ptr_or_null<T>(bias);
    T* rmp = ptr_or_null<T>(running_mean);
    T* rvp = ptr_or_null<T>(running_var);
    T* smp = save_mean.data_ptr<T>();
    T* sip = save_invstd.data_ptr<T>();
    parallel_for(l.channels, 1, [&](int64_t cb, int64_t ce) {
      for (int64_t c = cb; c < ce; ++c) {
        // Two passes (mean, then squared deviations) avoid the cancellation of E[x^2] - E[x]^2.
        double sum = 0;
        for_each_in_channel(l, c, [&](int64_t i) { sum += static_cast<double>(xp[i]); });
        const double mean = sum / static_cast<double>(m);
        double sq = 0;
        for_each_in_channel(l, c, [&](int64_t i) {
          const double d = static_cast<double>(xp[i]) - mean;
          sq += d * d;
        });
        const double var = sq / static_cast<double>(m);
        const double invstd = 1.0 / std::sqrt(var + eps);
        smp[c] = static_cast<T>(mean);
        sip[c] = static_cast<T>(invstd);
        if (rmp) rmp[c] = static_cast<T>((1 - momentum) * static_cast<double>(rmp[c]) + momentum * mean);
        if (rvp) {
          const double unbiased = sq / static_cast<double>(m - 1);
          rvp[c] = static_cast<T>((1 - momentum) * static_cast<double>(rvp[c]) + momentum * unbiased);
        }
        normalize_channel(l, c, xp, op, wp, bp, mean, invstd);
      }
    });
  });
}

void batch_norm_forward_inference(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                  const Tensor& running_mean, const Tensor& running_var, double eps,
                                  const Tensor& out) {
  const BatchNormLayout l =
      kernels::check_batch_norm_forward_inference_args(x, weight, bias, running_mean, running_var, out, Backend::Cpu);
  dispatch_floating(x.dtype(), "batch_norm_forward_inference", [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    const T* wp = ptr_or_null<T>(weight);
    const T* bp = ptr_or_null<T>(bias);
    const T* rmp = running_mean.data_ptr<T>();
    const T* rvp = running_var.data_ptr<T>();
    parallel_for(l.channels, 1, [&](int64_t cb, int64_t ce) {
      for (int64_t c = cb; c < ce; ++c) {
        const double invstd = 1.0 / std::sqrt(static_cast<double>(rvp[c]) + eps);
        normalize_channel(l, c, xp, op, wp, bp, static_cast<double>(rmp[c]), invstd);
      }
    });
  });
}

// eps goes unused: save_invstd already holds 1 / sqrt(var + eps).
void batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight, const Tensor& save_mean,
                         const Tensor& save_invstd, double /*eps*/, const Tensor& grad_x, const Tensor& grad_weight,
                         const Tensor& grad_bias) {
  const BatchNormLayout l = kernels::check_batch_norm_backward_args(
      grad_out, x, weight, save_mean, save_invstd, grad_x, grad_weight, grad_bias, Backend::Cpu);
  const double m = static_cast<double>(l.per_channel());
  dispatch_floating(x.dtype(), "batch_norm_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* gp = grad_out.data_ptr<T>();
    const T* xp = x.data_ptr<T>();
    const T* wp = ptr_or_null<T>(weight);
    const T* smp = save_mean.data_ptr<T>();
    const T* sip = save_invstd.data_ptr<T>();
    T* gxp = ptr_or_null<T>(grad_x);
    T* gwp = ptr_or_null<T>(grad_weight);
    T* gbp = ptr_or_null<T>(grad_bias);
    parallel_for(l.channels, 1, [&](int64_t cb, int64_t ce) {
      for (int64_t c = cb; c < ce; ++c) {
        const double mean = static_cast<double>(smp[c]), invstd = static_cast<double>(sip[c]);
        double sum_g = 0, sum_g_xhat = 0;
        for_each_in_channel(l, c, [&](int64_t i) {
          const double g = static_cast<double>(gp[i]);
          sum_g += g;
          sum_g_xhat += g * (static_cast<double>(xp[i]) - mean) * invstd;
        });
        if (gbp) gbp[c] = static_cast<T>(sum_g);
        if (gwp) gwp[c] = static_cast<T>(sum_g_xhat);
        if (!gxp) continue;
        // The mean and variance depend on every x of the channel, hence the two correction terms.
        const double scale = (wp ? static_cast<double>(wp[c]) : 1.0) * invstd;
        const double mean_g = sum_g / m, mean_g_xhat = sum_g_xhat / m;
        for_each_in_channel(l, c, [&](int64_t i) {
          const double xhat = (static_cast<double>(xp[i]) - mean) * invstd;
          gxp[i] = static_cast<T>(scale * (static_cast<double>(gp[i]) - mean_g - xhat * mean_g_xhat));
        });
      }
    });
  });
}

}  // namespace maskdet::cpu
