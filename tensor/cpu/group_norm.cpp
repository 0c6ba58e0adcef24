// CPU group normalisation: forward and backward. A (sample, group) pair owns one contiguous
// run of D * S values (D channels of S spatial values each), so both passes run in parallel
// over those runs; the per-channel parameter gradients run in parallel over channels.
#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/group_norm.h"
#include "tensor/kernels/group_norm_checks.h"

namespace maskdet::cpu {

namespace {

using kernels::GroupNormLayout;

// Enough (sample, group) runs per thread to be worth one: about 32k values.
int64_t group_grain(const GroupNormLayout& l) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(l.per_group(), 1));
}

}  // namespace

void group_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t num_groups, double eps,
                        const Tensor& out, const Tensor& save_mean, const Tensor& save_rstd) {
  const GroupNormLayout l =
      kernels::check_group_norm_forward_args(x, weight, bias, num_groups, out, save_mean, save_rstd, Backend::Cpu);
  dispatch_floating(x.dtype(), "group_norm_forward", [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    const T* wp = ptr_or_null<T>(weight);
    const T* bp = ptr_or_null<T>(bias);
    T* op = out.data_ptr<T>();
    T* mean_p = save_mean.data_ptr<T>();
    T* rstd_p = save_rstd.data_ptr<T>();
    const int64_t m = l.per_group();
    parallel_for(l.batch * l.groups, group_grain(l), [&](int64_t begin, int64_t end) {
      for (int64_t ng = begin; ng < end; ++ng) {
        const T* xs = xp + ng * m;
        T* os = op + ng * m;
        // Two passes (mean, then squared deviations) rather than E[x^2] - E[x]^2, which cancels badly.
        double sum = 0;
        for (int64_t i = 0; i < m; ++i) sum += xs[i];
        const double mean = m > 0 ? sum / static_cast<double>(m) : 0.0;
        double squares = 0;
        for (int64_t i = 0; i < m; ++i) {
          const double d = xs[i] - mean;
          squares += d * d;
        }
        const double rstd = 1.0 / std::sqrt((m > 0 ? squares / static_cast<double>(m) : 0.0) + eps);
        mean_p[ng] = static_cast<T>(mean);
        rstd_p[ng] = static_cast<T>(rstd);
        const int64_t first_channel = (ng % l.groups) * l.channels_per_group;
        for (int64_t dc = 0; dc < l.channels_per_group; ++dc) {
          const int64_t c = first_channel + dc;
          const double scale = rstd * (wp ? static_cast<double>(wp[c]) : 1.0);
          const double shift = (bp ? static_cast<double>(bp[c]) : 0.0) - mean * scale;
          const int64_t base = dc * l.spatial;
          for (int64_t s = 0; s < l.spatial; ++s)
            os[base + s] = static_cast<T>(static_cast<double>(xs[base + s]) * scale + shift);
        }
      }
    });
  });
}

void group_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight, const Tensor& save_mean,
                         const Tensor& save_rstd, int64_t num_groups, const Tensor& grad_x, const Tensor& grad_weight,
                         const Tensor& grad_bias) {
  const GroupNormLayout l = kernels::check_group_norm_backward_args(
      grad_out, x, weight, save_mean, save_rstd, num_groups, grad_x, grad_weight, grad_bias, Backend::Cpu);
  dispatch_floating(x.dtype(), "group_norm_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* gp = grad_out.data_ptr<T>();
    const T* xp = x.data_ptr<T>();
    const T* wp = ptr_or_null<T>(weight);
    const T* mean_p = save_mean.data_ptr<T>();
    const T* rstd_p = save_rstd.data_ptr<T>();
    const int64_t channels = l.channels(), spatial = l.spatial;

    // Per (sample, channel) row: sum(grad_out * x) and sum(grad_out). Everything else is built
    // from these, since xhat is affine in x within a row.
    std::vector<double> grad_x_sum(l.batch * channels), grad_sum(l.batch * channels);
    parallel_for(l.batch * channels, std::max<int64_t>(1, 32768 / std::max<int64_t>(spatial, 1)),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t row = begin; row < end; ++row) {
                     double gx_sum = 0, g_sum = 0;
                     for (int64_t s = 0; s < spatial; ++s) {
                       const double g = gp[row * spatial + s];
                       gx_sum += g * xp[row * spatial + s];
                       g_sum += g;
                     }
                     grad_x_sum[row] = gx_sum;
                     grad_sum[row] = g_sum;
                   }
                 });
    // sum over the row of grad_out * xhat = rstd * (sum(grad_out * x) - mean * sum(grad_out)).
    const auto row_grad_xhat = [&](int64_t n, int64_t c) {
      const int64_t ng = n * l.groups + c / l.channels_per_group, row = n * channels + c;
      return static_cast<double>(rstd_p[ng]) * (grad_x_sum[row] - static_cast<double>(mean_p[ng]) * grad_sum[row]);
    };

    if (grad_weight.defined() || grad_bias.defined()) {
      T* gw = ptr_or_null<T>(grad_weight);
      T* gb = ptr_or_null<T>(grad_bias);
      for (int64_t c = 0; c < channels; ++c) {
        double w_sum = 0, b_sum = 0;
        for (int64_t n = 0; n < l.batch; ++n) {
          w_sum += row_grad_xhat(n, c);
          b_sum += grad_sum[n * channels + c];
        }
        if (gw) gw[c] = static_cast<T>(w_sum);
        if (gb) gb[c] = static_cast<T>(b_sum);
      }
    }

    if (!grad_x.defined()) return;
    T* gxp = grad_x.data_ptr<T>();
    const int64_t m = l.per_group();
    parallel_for(l.batch * l.groups, group_grain(l), [&](int64_t begin, int64_t end) {
      for (int64_t ng = begin; ng < end; ++ng) {
        const int64_t n = ng / l.groups, first_channel = (ng % l.groups) * l.channels_per_group;
        const double mean = mean_p[ng], rstd = rstd_p[ng];
        double dxhat_sum = 0, dxhat_xhat_sum = 0;
        for (int64_t c = first_channel; c < first_channel + l.channels_per_group; ++c) {
          const double w = wp ? static_cast<double>(wp[c]) : 1.0;
          dxhat_sum += w * grad_sum[n * channels + c];
          dxhat_xhat_sum += w * row_grad_xhat(n, c);
        }
        const double mean_dxhat = dxhat_sum / static_cast<double>(m);
        const double mean_dxhat_xhat = dxhat_xhat_sum / static_cast<double>(m);
        for (int64_t c = first_channel; c < first_channel + l.channels_per_group; ++c) {
          const double w = wp ? static_cast<double>(wp[c]) : 1.0;
          const int64_t base = (n * channels + c) * spatial;
          for (int64_t s = 0; s < spatial; ++s) {
            const double xhat = (static_cast<double>(xp[base + s]) - mean) * rstd;
            gxp[base + s] =
                static_cast<T>(rstd * (w * static_cast<double>(gp[base + s]) - mean_dxhat - xhat * mean_dxhat_xhat));
          }
        }
      }
    });
  });
}

}  // namespace maskdet::cpu
