// CUDA optimiser kernels (tensor/kernels/optim.h): the fused SGD and AdamW updates, the weights'
// moving average and the partial p-norm of gradient clipping. The per-element arithmetic is the
// CPU's, from tensor/kernels/optim_math.h, which rounds every operation as the CPU does, so the
// updates give the CPU's results bit for bit.
//
// norm_partial is deterministic on the GPU (fixed chunks, fixed tree, no atomics) but adds in
// another order than the CPU, so a sum may differ from it in the last bits; a max is exact.
#include <cmath>

#include "cuda/kernels/strided.cuh"
#include "tensor/kernels/optim.h"
#include "tensor/kernels/optim_checks.h"
#include "tensor/kernels/optim_math.h"

namespace maskdet::cuda {
namespace {
namespace math = kernels::optim_math;

// Elements per block of the first norm pass; the chunking depends on numel only.
constexpr int64_t kNormChunk = 32768;

// p, g, buf: (n,); buf null without momentum.
template <class T>
__global__ void sgd_kernel(int64_t n, T* p, const T* g, T* buf, double lr, double momentum, double dampening,
                           double weight_decay, bool nesterov, bool first_step) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    math::sgd_step(p[i], g[i], buf ? buf + i : nullptr, lr, momentum, dampening, weight_decay, nesterov, first_step);
}

// p, g, m, v: (n,).
template <class T>
__global__ void adamw_kernel(int64_t n, T* p, const T* g, T* m, T* v, math::AdamWCoefficients c) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    math::adamw_step(p[i], g[i], m[i], v[i], c);
}

// average, value: (n,).
template <class T>
__global__ void ema_kernel(int64_t n, T* average, const T* value, double decay) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    math::ema_step(average[i], value[i], decay);
}

struct NanMaxOp {
  __device__ double operator()(double acc, double v) const { return math::nan_max(acc, v); }
};

// Folds values[0 .. kThreadsPerBlock) into values[0]: a sum, or the NaN-winning max.
__device__ void fold_block(double* values, bool is_max) {
  if (is_max) block_tree_reduce(values, NanMaxOp{});
  else block_tree_reduce(values, AddOp<double>{});
}

// x: (n,). partial: (ceil(n / kNormChunk),). Block b folds chunk b: sum |x|^p, or max |x|.
template <class T>
__global__ void norm_chunks_kernel(int64_t n, const T* x, double norm_type, bool is_max, double* partial) {
  __shared__ double values[kThreadsPerBlock];
  const int64_t chunks = (n + kNormChunk - 1) / kNormChunk;
  for (int64_t c = blockIdx.x; c < chunks; c += gridDim.x) {
    const int64_t end = min(n, (c + 1) * kNormChunk);
    double acc = 0;
    for (int64_t i = c * kNormChunk + threadIdx.x; i < end; i += blockDim.x) {
      const double term = math::norm_term(static_cast<double>(x[i]), norm_type, is_max);
      acc = is_max ? math::nan_max(acc, term) : acc + term;
    }
    values[threadIdx.x] = acc;
    fold_block(values, is_max);
    if (threadIdx.x == 0) partial[c] = values[0];
    __syncthreads();  // values[0] is read before the next chunk overwrites it
  }
}

// partial: (chunks,). out: (1,). One block folds the partials.
__global__ void norm_total_kernel(int64_t chunks, const double* partial, bool is_max, double* out) {
  __shared__ double values[kThreadsPerBlock];
  double acc = 0;
  for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) acc = is_max ? math::nan_max(acc, partial[c]) : acc + partial[c];
  values[threadIdx.x] = acc;
  fold_block(values, is_max);
  if (threadIdx.x == 0) out[0] = values[0];
}

}  // namespace

// param: (*), UPDATED IN PLACE. grad: (*). momentum_buffer: (*), UPDATED IN PLACE, may be
// undefined when momentum == 0. All contiguous, one dtype, on one GPU.
void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov, bool first_step) {
  kernels::check_sgd_update_args(param, grad, momentum_buffer, momentum, Backend::Cuda);
  const bool use_momentum = momentum != 0;
  const int64_t n = param.numel();
  if (n == 0) return;
  DeviceGuard guard(param.device().index);
  dispatch_floating(param.dtype(), "sgd_update", [&](auto zero) {
    using T = decltype(zero);
    T* buf = use_momentum ? momentum_buffer.data_ptr<T>() : nullptr;
    sgd_kernel<T><<<blocks_for(n), kThreadsPerBlock, 0, current_stream()>>>(
        n, param.data_ptr<T>(), grad.data_ptr<T>(), buf, lr, momentum, dampening, weight_decay, nesterov, first_step);
    CUDA_CHECK_LAUNCH();
  });
}

// param, exp_avg, exp_avg_sq: (*), UPDATED IN PLACE. grad: (*). All contiguous, one dtype, on
// one GPU. step >= 1.
void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq, double lr,
                  double beta1, double beta2, double eps, double weight_decay, int64_t step) {
  kernels::check_adamw_update_args(param, grad, exp_avg, exp_avg_sq, Backend::Cuda);
  const math::AdamWCoefficients c = math::adamw_coefficients(lr, beta1, beta2, eps, weight_decay, step);
  const int64_t n = param.numel();
  if (n == 0) return;
  DeviceGuard guard(param.device().index);
  dispatch_floating(param.dtype(), "adamw_update", [&](auto zero) {
    using T = decltype(zero);
    adamw_kernel<T><<<blocks_for(n), kThreadsPerBlock, 0, current_stream()>>>(
        n, param.data_ptr<T>(), grad.data_ptr<T>(), exp_avg.data_ptr<T>(), exp_avg_sq.data_ptr<T>(), c);
    CUDA_CHECK_LAUNCH();
  });
}

// average: (*), UPDATED IN PLACE. value: (*). Both contiguous, one dtype, on one GPU.
void ema_update(const Tensor& average, const Tensor& value, double decay) {
  kernels::check_ema_update_args(average, value, decay, Backend::Cuda);
  const int64_t n = average.numel();
  if (n == 0) return;
  DeviceGuard guard(average.device().index);
  dispatch_floating(average.dtype(), "ema_update", [&](auto zero) {
    using T = decltype(zero);
    ema_kernel<T><<<blocks_for(n), kThreadsPerBlock, 0, current_stream()>>>(n, average.data_ptr<T>(),
                                                                         value.data_ptr<T>(), decay);
    CUDA_CHECK_LAUNCH();
  });
}

// x: (*), float32 or float64, contiguous. out: (1), float64, on x's GPU. OVERWRITES out.
void norm_partial(const Tensor& x, double norm_type, const Tensor& out) {
  kernels::check_norm_partial_args(x, norm_type, out, Backend::Cuda);
  const bool is_max = std::isinf(norm_type);
  const int64_t n = x.numel();
  DeviceGuard guard(x.device().index);
  const cudaStream_t stream = current_stream();
  double* op = out.data_ptr<double>();
  if (n == 0) {
    CUDA_CHECK(cudaMemsetAsync(op, 0, sizeof(double), stream));  // all-zero bytes are +0.0
    return;
  }
  const int64_t chunks = (n + kNormChunk - 1) / kNormChunk;
  auto* partial = static_cast<double*>(workspace(chunks * sizeof(double)));
  dispatch_floating(x.dtype(), "norm_partial", [&](auto zero) {
    using T = decltype(zero);
    norm_chunks_kernel<T><<<static_cast<unsigned>(std::min<int64_t>(chunks, 65535 * 8)), kThreadsPerBlock, 0, stream>>>(
        n, x.data_ptr<T>(), norm_type, is_max, partial);
    CUDA_CHECK_LAUNCH();
  });
  norm_total_kernel<<<1, kThreadsPerBlock, 0, stream>>>(chunks, partial, is_max, op);
  CUDA_CHECK_LAUNCH();
}

}  // namespace maskdet::cuda
