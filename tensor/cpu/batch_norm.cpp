// CPU batch normalisation: forward with batch statistics (updating the running ones),
// forward with running statistics, and the training-mode backward. Each channel is an
// independent job, so the loops run in parallel over channels.
#include <cmath>

#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/batch_norm.h"

namespace maskdet::cpu {

namespace {

// x viewed as (N, C, S), S the product of the spatial dims: channel c's values are the N runs
// x[(n * C + c) * S .. + S).
struct ChannelLayout {
  int64_t batch = 0, channels = 0, spatial = 1;
  int64_t per_channel() const { return batch * spatial; }
};

ChannelLayout channel_layout(const Tensor& x, const char* kernel) {
  MASKDET_CHECK(x.dim() >= 2, kernel, ": x must be (N, C) or (N, C, H, W), got shape ", shape_str(x.shape()));
  MASKDET_CHECK(x.is_contiguous(), kernel, ": x must be contiguous");
  ChannelLayout l;
  l.batch = x.size(0);
  l.channels = x.size(1);
  for (int64_t d = 2; d < x.dim(); ++d) l.spatial *= x.size(d);
  return l;
}

// A (C) vector the kernel reads or writes; `optional` allows an undefined tensor.
// The operands both forwards share: x, its optional affine parameters and the output.
ChannelLayout check_forward_operands(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out,
                                     const char* kernel) {
  const ChannelLayout l = channel_layout(x, kernel);
  check_same_shape(out, x.shape(), kernel, "out");
  MASKDET_CHECK(out.is_contiguous() && out.dtype() == x.dtype(), kernel, ": out must be contiguous and of x's dtype");
  check_operand(weight, x, {l.channels}, kernel, "weight", true);
  check_operand(bias, x, {l.channels}, kernel, "bias", true);
  return l;
}

// Calls body(offset) for every element of channel c, in memory order.
template <class Body>
inline void for_each_in_channel(const ChannelLayout& l, int64_t c, const Body& body) {
  for (int64_t n = 0; n < l.batch; ++n) {
    const int64_t base = (n * l.channels + c) * l.spatial;
    for (int64_t s = 0; s < l.spatial; ++s) body(base + s);
  }
}

// out = (x - mean) * invstd * weight_c + bias_c over channel c, folded into one multiply-add;
// both forwards end with it. wp, bp may be null (no affine).
template <class T>
void normalize_channel(const ChannelLayout& l, int64_t c, const T* xp, T* op, const T* wp, const T* bp, double mean,
                       double invstd) {
  const double scale = (wp ? static_cast<double>(wp[c]) : 1.0) * invstd;
  const double shift = (bp ? static_cast<double>(bp[c]) : 0.0) - mean * scale;
  for_each_in_channel(l, c, [&](int64_t i) { op[i] = static_cast<T>(static_cast<double>(xp[i]) * scale + shift); });
}

}  // namespace

void batch_norm_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                 const Tensor& running_mean, const Tensor& running_var, double momentum, double eps,
                                 const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd) {
  constexpr const char* kernel = "batch_norm_forward_training";
  const ChannelLayout l = check_forward_operands(x, weight, bias, out, kernel);
  check_operand(running_mean, x, {l.channels}, kernel, "running_mean", true);
  check_operand(running_var, x, {l.channels}, kernel, "running_var", true);
  check_operand(save_mean, x, {l.channels}, kernel, "save_mean", false);
  check_operand(save_invstd, x, {l.channels}, kernel, "save_invstd", false);
  const int64_t m = l.per_channel();
  MASKDET_CHECK(m > 1, kernel, ": needs more than one value per channel, got x of shape ", shape_str(x.shape()));
  dispatch_floating(x.dtype(), kernel, [&](auto zero) {
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
  constexpr const char* kernel = "batch_norm_forward_inference";
  const ChannelLayout l = check_forward_operands(x, weight, bias, out, kernel);
  check_operand(running_mean, x, {l.channels}, kernel, "running_mean", false);
  check_operand(running_var, x, {l.channels}, kernel, "running_var", false);
  dispatch_floating(x.dtype(), kernel, [&](auto zero) {
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

void batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight, const Tensor& save_mean,
                         const Tensor& save_invstd, const Tensor& grad_x, const Tensor& grad_weight,
                         const Tensor& grad_bias) {
  constexpr const char* kernel = "batch_norm_backward";
  const ChannelLayout l = channel_layout(x, kernel);
  check_same_shape(grad_out, x.shape(), kernel, "grad_out");
  MASKDET_CHECK(grad_out.is_contiguous() && grad_out.dtype() == x.dtype(), kernel,
                ": grad_out must be contiguous and of x's dtype");
  if (grad_x.defined()) {
    check_same_shape(grad_x, x.shape(), kernel, "grad_x");
    MASKDET_CHECK(grad_x.is_contiguous() && grad_x.dtype() == x.dtype(), kernel,
                  ": grad_x must be contiguous and of x's dtype");
  }
  check_operand(weight, x, {l.channels}, kernel, "weight", true);
  check_operand(save_mean, x, {l.channels}, kernel, "save_mean", false);
  check_operand(save_invstd, x, {l.channels}, kernel, "save_invstd", false);
  check_operand(grad_weight, x, {l.channels}, kernel, "grad_weight", true);
  check_operand(grad_bias, x, {l.channels}, kernel, "grad_bias", true);
  const double m = static_cast<double>(l.per_channel());
  dispatch_floating(x.dtype(), kernel, [&](auto zero) {
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
