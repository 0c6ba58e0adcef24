// CPU optimiser kernels: fused SGD and AdamW updates, and the partial p-norm for gradient
// clipping. Float32 elements are widened to double for the arithmetic and rounded once when
// stored, so a float32 run drifts from the float64 one only by storage rounding.
#include <cmath>
#include <limits>
#include <vector>

#include "tensor/cpu/parallel.h"
#include "tensor/kernels/optim.h"

namespace maskdet::cpu {

namespace {

constexpr int64_t kUpdateGrain = 16384;
// Fixed block size for the norm: the blocks, not the threads, decide the summation order.
constexpr int64_t kNormBlock = 32768;

void check_like_param(const Tensor& t, const Tensor& param, const char* kernel, const char* what) {
  MASKDET_CHECK(t.defined(), kernel, ": ", what, " is undefined");
  MASKDET_CHECK(t.shape() == param.shape(), kernel, ": ", what, " has shape ", shape_str(t.shape()),
                ", the parameter ", shape_str(param.shape()));
  MASKDET_CHECK(t.dtype() == param.dtype(), kernel, ": ", what, " is ", dtype_name(t.dtype()), ", the parameter ",
                dtype_name(param.dtype()));
  MASKDET_CHECK(t.is_contiguous(), kernel, ": ", what, " must be contiguous");
}

}  // namespace

void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov, bool first_step) {
  check_like_param(param, param, "sgd_update", "param");
  check_like_param(grad, param, "sgd_update", "grad");
  const bool use_momentum = momentum != 0;
  if (use_momentum) check_like_param(momentum_buffer, param, "sgd_update", "momentum_buffer");
  dispatch_floating(param.dtype(), "sgd_update", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* buf = use_momentum ? momentum_buffer.data_ptr<T>() : nullptr;
    parallel_for(param.numel(), kUpdateGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const double pi = p[i];
        double d = g[i];
        if (weight_decay != 0) d = d + weight_decay * pi;
        if (use_momentum) {
          const double b = first_step ? d : static_cast<double>(buf[i]) * momentum + (1 - dampening) * d;
          buf[i] = static_cast<T>(b);
          // Nesterov looks ahead with the buffer as stored, as PyTorch reads it back.
          d = nesterov ? d + momentum * static_cast<double>(buf[i]) : static_cast<double>(buf[i]);
        }
        p[i] = static_cast<T>(pi + (-lr) * d);
      }
    });
  });
}

void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq, double lr,
                  double beta1, double beta2, double eps, double weight_decay, int64_t step) {
  check_like_param(param, param, "adamw_update", "param");
  check_like_param(grad, param, "adamw_update", "grad");
  check_like_param(exp_avg, param, "adamw_update", "exp_avg");
  check_like_param(exp_avg_sq, param, "adamw_update", "exp_avg_sq");
  MASKDET_CHECK(step >= 1, "adamw_update: step is ", step, ", the first update is step 1");
  const double decay = 1 - lr * weight_decay;
  const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2_sqrt = std::sqrt(1 - std::pow(beta2, static_cast<double>(step)));
  const double neg_step_size = -(lr / bias_correction1);
  dispatch_floating(param.dtype(), "adamw_update", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* m = exp_avg.data_ptr<T>();
    T* v = exp_avg_sq.data_ptr<T>();
    parallel_for(param.numel(), kUpdateGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const double gi = g[i];
        const double pi = static_cast<double>(p[i]) * decay;
        m[i] = static_cast<T>(static_cast<double>(m[i]) * beta1 + (1 - beta1) * gi);
        v[i] = static_cast<T>(static_cast<double>(v[i]) * beta2 + (1 - beta2) * gi * gi);
        const double denom = std::sqrt(static_cast<double>(v[i])) / bias_correction2_sqrt + eps;
        p[i] = static_cast<T>(pi + neg_step_size * static_cast<double>(m[i]) / denom);
      }
    });
  });
}

void norm_partial(const Tensor& x, double norm_type, const Tensor& out) {
  MASKDET_CHECK(x.is_contiguous(), "norm_partial: x must be contiguous");
  MASKDET_CHECK(out.dtype() == DType::Float64 && out.numel() == 1, "norm_partial: out must be one float64 element, got ",
                dtype_name(out.dtype()), " ", shape_str(out.shape()));
  MASKDET_CHECK(norm_type > 0, "norm_partial: norm_type must be positive, got ", norm_type);
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
          const double a = std::abs(static_cast<double>(xp[i]));
          if (is_max) {
            // NaN wins, as torch.max: once acc is NaN no comparison replaces it.
            if (a > acc || std::isnan(a)) acc = a;
          } else {
            acc += norm_type == 2 ? a * a : (norm_type == 1 ? a : std::pow(a, norm_type));
          }
        }
        partial[b] = acc;
      }
    });
  });
  double total = 0;
  for (double p : partial) total = is_max ? ((p > total || std::isnan(p)) ? p : total) : total + p;
  out.data_ptr<double>()[0] = total;
}

}  // namespace maskdet::cpu
