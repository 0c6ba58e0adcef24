// CPU optimiser kernels: fused SGD and AdamW updates, the weights' moving average, and the
// partial p-norm for gradient clipping. Float32 elements are widened to double for the
// arithmetic and rounded once when stored, so a float32 run drifts from the float64 one only by
// storage rounding.
#include <cmath>
#include <limits>
#include <vector>

#include "tensor/cpu/parallel.h"
#include "tensor/kernels/optim.h"
#include "tensor/kernels/optim_checks.h"
#include "tensor/kernels/optim_math.h"

namespace maskdet::cpu {

namespace {
namespace math = kernels::optim_math;
using kernels::Backend;

constexpr int64_t kUpdateGrain = 16384;
// Fixed block size for the norm: the blocks, not the threads, decide the summation order.
constexpr int64_t kNormBlock = 32768;

}  // namespace

void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov, bool first_step) {
  kernels::check_sgd_update_args(param, grad, momentum_buffer, momentum, Backend::Cpu);
  const bool use_momentum = momentum != 0;
  dispatch_floating(param.dtype(), "sgd_update", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* buf = use_momentum ? momentum_buffer.data_ptr<T>() : nullptr;
    parallel_for(param.numel(), kUpdateGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        math::sgd_step(p[i], g[i], buf ? buf + i : nullptr, lr, momentum, dampening, weight_decay, nesterov, first_step);
    });
  });
}

void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq, double lr,
                  double beta1, double beta2, double eps, double weight_decay, int64_t step) {
  kernels::check_adamw_update_args(param, grad, exp_avg, exp_avg_sq, Backend::Cpu);
  const math::AdamWCoefficients c = math::adamw_coefficients(lr, beta1, beta2, eps, weight_decay, step);
  dispatch_floating(param.dtype(), "adamw_update", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* m = exp_avg.data_ptr<T>();
    T* v = exp_avg_sq.data_ptr<T>();
    parallel_for(param.numel(), kUpdateGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) math::adamw_step(p[i], g[i], m[i], v[i], c);
    });
  });
}

void ema_update(const Tensor& average, const Tensor& value, double decay) {
  kernels::check_ema_update_args(average, value, decay, Backend::Cpu);
  dispatch_floating(average.dtype(), "ema_update", [&](auto zero) {
    using T = decltype(zero);
    T* a = average.data_ptr<T>();
    const T* v = value.data_ptr<T>();
    parallel_for(average.numel(), kUpdateGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) math::ema_step(a[i], v[i], decay);
    });
  });
}

void norm_partial(const Tensor& x, double norm_type, const Tensor& out) {
  kernels::check_norm_partial_args(x, norm_type, out, Backend::Cpu);
  const bool is_max = std::isinf(norm_type);
  const int64_t n = x.numel();
  const int64_t blocks = (n + kNormBlock - 1) / kNormBlock;
  std::vector<double> partial(blocks, 0.0);
  dispatch_floating(x.dtype(), "norm_partial", [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    parallel_for(blocks, 1, [&](int64_t block_begin, int64_t block_end) {
      for (int64_t b = block_begin; b < block_end; ++b) {
        const int64_t end = std::min(n, (b + 1) * kNormBlock);
        double acc = 0;
        for (int64_t i = b * kNormBlock; i < end; ++i) {
          const double term = math::norm_term(static_cast<double>(xp[i]), norm_type, is_max);
          acc = is_max ? math::nan_max(acc, term) : acc + term;
        }
        partial[b] = acc;
      }
    });
  });
  double total = 0;
  for (double p : partial) total = is_max ? math::nan_max(total, p) : total + p;
  out.data_ptr<double>()[0] = total;
}

}  // namespace maskdet::cpu
