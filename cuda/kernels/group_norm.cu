// CUDA group normalisation (tensor/kernels/group_norm.h; Wu & He 2018, "Group Normalization"),
// step for step the CPU kernel of tensor/cpu/group_norm.cpp: the same two-pass statistics and
// the same backward built from per-(sample, channel) row sums, all accumulated in double.
// Reductions give each (sample, group) or row one block (block_sum, cuda/kernels/nn_common.cuh),
// and everything else one thread per output, so there are no atomics and results repeat bit
// for bit. They differ from the CPU only by summation order (and FMA contraction): ~1e-6
// relative in float32, ~1e-13 in float64.
#include "cuda/kernels/nn_common.cuh"
#include "tensor/creation.h"
#include "tensor/kernels/group_norm.h"
#include "tensor/kernels/group_norm_checks.h"

namespace maskdet::cuda {

namespace {

using kernels::GroupNormLayout;

// One block per (sample, group): mean, then squared deviations (two passes, as the CPU, against
// the cancellation of E[x^2] - E[x]^2), then the normalised, affine-mapped output.
template <class T>
__global__ void group_norm_forward_kernel(const T* __restrict__ x,    // (N, C, S)
                                          const T* __restrict__ w,    // (C) or null
                                          const T* __restrict__ b,    // (C) or null
                                          T* __restrict__ out,        // (N, C, S)
                                          T* __restrict__ mean_out,   // (N, G)
                                          T* __restrict__ rstd_out,   // (N, G)
                                          int64_t batch_groups, int64_t groups, int64_t channels_per_group,
                                          int64_t spatial, double eps) {
  __shared__ double scratch[kWarpsPerBlock];
  const int64_t m = channels_per_group * spatial;
  for (int64_t ng = blockIdx.x; ng < batch_groups; ng += gridDim.x) {
    const T* xs = x + ng * m;
    T* os = out + ng * m;
    double sum = 0;
    for (int64_t i = threadIdx.x; i < m; i += blockDim.x) sum += static_cast<double>(xs[i]);
    sum = block_sum(sum, scratch);
    const double mean = m > 0 ? sum / static_cast<double>(m) : 0.0;
    double squares = 0;
    for (int64_t i = threadIdx.x; i < m; i += blockDim.x) {
      const double d = static_cast<double>(xs[i]) - mean;
      squares += d * d;
    }
    squares = block_sum(squares, scratch);
    const double rstd = 1.0 / sqrt((m > 0 ? squares / static_cast<double>(m) : 0.0) + eps);
    if (threadIdx.x == 0) {
      mean_out[ng] = static_cast<T>(mean);
      rstd_out[ng] = static_cast<T>(rstd);
    }
    const int64_t first_channel = (ng % groups) * channels_per_group;
    for (int64_t i = threadIdx.x; i < m; i += blockDim.x) {
      const int64_t c = first_channel + i / spatial;
      const double scale = rstd * (w ? static_cast<double>(w[c]) : 1.0);
      const double shift = (b ? static_cast<double>(b[c]) : 0.0) - mean * scale;
      os[i] = static_cast<T>(static_cast<double>(xs[i]) * scale + shift);
    }
  }
}

// One block per (sample, channel) row: sum(grad_out * x) and sum(grad_out).
template <class T>
__global__ void row_sums_kernel(const T* __restrict__ g,         // (N * C, S)
                                const T* __restrict__ x,         // (N * C, S)
                                double* __restrict__ gx_sum,     // (N * C)
                                double* __restrict__ g_sum,      // (N * C)
                                int64_t rows, int64_t spatial) {
  __shared__ double scratch[kWarpsPerBlock];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    double gx = 0, gs = 0;
    for (int64_t s = threadIdx.x; s < spatial; s += blockDim.x) {
      const double gv = static_cast<double>(g[row * spatial + s]);
      gx += gv * static_cast<double>(x[row * spatial + s]);
      gs += gv;
    }
    gx = block_sum(gx, scratch);
    gs = block_sum(gs, scratch);
    if (threadIdx.x == 0) {
      gx_sum[row] = gx;
      g_sum[row] = gs;
    }
  }
}

// sum over a row of grad_out * xhat = rstd * (sum(grad_out * x) - mean * sum(grad_out)).
template <class T>
__device__ double row_grad_xhat(const T* mean, const T* rstd, const double* gx_sum, const double* g_sum, int64_t ng,
                                int64_t row) {
  return static_cast<double>(rstd[ng]) * (gx_sum[row] - static_cast<double>(mean[ng]) * g_sum[row]);
}

// One thread per channel, summing over the samples in order.
template <class T>
__global__ void param_grads_kernel(const T* __restrict__ mean,      // (N, G)
                                   const T* __restrict__ rstd,      // (N, G)
                                   const double* __restrict__ gx_sum,  // (N * C)
                                   const double* __restrict__ g_sum,   // (N * C)
                                   T* __restrict__ grad_w,          // (C) or null
                                   T* __restrict__ grad_b,          // (C) or null
                                   int64_t batch, int64_t groups, int64_t channels_per_group) {
  const int64_t channels = groups * channels_per_group;
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < channels; c += step) {
    double w_sum = 0, b_sum = 0;
    for (int64_t n = 0; n < batch; ++n) {
      const int64_t ng = n * groups + c / channels_per_group, row = n * channels + c;
      w_sum += row_grad_xhat(mean, rstd, gx_sum, g_sum, ng, row);
      b_sum += g_sum[row];
    }
    if (grad_w) grad_w[c] = static_cast<T>(w_sum);
    if (grad_b) grad_b[c] = static_cast<T>(b_sum);
  }
}

// One thread per (sample, group): the group means of dxhat and dxhat * xhat the grad_x formula
// subtracts (dxhat = grad_out * weight_c).
template <class T>
__global__ void group_coefficients_kernel(const T* __restrict__ w,         // (C) or null
                                          const T* __restrict__ mean,      // (N, G)
                                          const T* __restrict__ rstd,      // (N, G)
                                          const double* __restrict__ gx_sum,  // (N * C)
                                          const double* __restrict__ g_sum,   // (N * C)
                                          double* __restrict__ mean_dxhat,       // (N, G)
                                          double* __restrict__ mean_dxhat_xhat,  // (N, G)
                                          int64_t batch_groups, int64_t groups, int64_t channels_per_group,
                                          int64_t spatial) {
  const int64_t channels = groups * channels_per_group;
  const double m = static_cast<double>(channels_per_group * spatial);
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t ng = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; ng < batch_groups; ng += step) {
    const int64_t n = ng / groups, first_channel = (ng % groups) * channels_per_group;
    double dxhat_sum = 0, dxhat_xhat_sum = 0;
    for (int64_t c = first_channel; c < first_channel + channels_per_group; ++c) {
      const double wc = w ? static_cast<double>(w[c]) : 1.0;
      dxhat_sum += wc * g_sum[n * channels + c];
      dxhat_xhat_sum += wc * row_grad_xhat(mean, rstd, gx_sum, g_sum, ng, n * channels + c);
    }
    mean_dxhat[ng] = dxhat_sum / m;
    mean_dxhat_xhat[ng] = dxhat_xhat_sum / m;
  }
}

// One thread per element: grad_x = rstd * (w * grad_out - mean(dxhat) - xhat * mean(dxhat * xhat)).
template <class T>
__global__ void group_norm_grad_x_kernel(const T* __restrict__ g,     // (N, C, S)
                                         const T* __restrict__ x,     // (N, C, S)
                                         const T* __restrict__ w,     // (C) or null
                                         const T* __restrict__ mean,  // (N, G)
                                         const T* __restrict__ rstd,  // (N, G)
                                         const double* __restrict__ mean_dxhat,       // (N, G)
                                         const double* __restrict__ mean_dxhat_xhat,  // (N, G)
                                         T* __restrict__ grad_x,      // (N, C, S)
                                         int64_t numel, int64_t groups, int64_t channels_per_group,
                                         int64_t spatial) {
  const int64_t channels = groups * channels_per_group;
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < numel; i += step) {
    const int64_t row = i / spatial, n = row / channels, c = row % channels;
    const int64_t ng = n * groups + c / channels_per_group;
    const double r = static_cast<double>(rstd[ng]);
    const double xhat = (static_cast<double>(x[i]) - static_cast<double>(mean[ng])) * r;
    const double wc = w ? static_cast<double>(w[c]) : 1.0;
    grad_x[i] =
        static_cast<T>(r * (wc * static_cast<double>(g[i]) - mean_dxhat[ng] - xhat * mean_dxhat_xhat[ng]));
  }
}

}  // namespace

// x, out: (N, C, *spatial); weight, bias: (C) or undefined; save_mean, save_rstd: (N, G).
// All contiguous, x's dtype, one GPU. Overwrites out, save_mean, save_rstd.
void group_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t num_groups, double eps,
                        const Tensor& out, const Tensor& save_mean, const Tensor& save_rstd) {
  const GroupNormLayout l =
      kernels::check_group_norm_forward_args(x, weight, bias, num_groups, out, save_mean, save_rstd, Backend::Cuda);
  dispatch_floating(x.dtype(), "group_norm_forward", [&](auto zero) {
    using T = decltype(zero);
    const int64_t batch_groups = l.batch * l.groups;
    if (batch_groups == 0) return;
    DeviceGuard guard(x.device().index);
    group_norm_forward_kernel<T><<<blocks_for_items(batch_groups), kThreadsPerBlock, 0, current_stream()>>>(
        x.data_ptr<T>(), ptr_or_null<T>(weight), ptr_or_null<T>(bias), out.data_ptr<T>(), save_mean.data_ptr<T>(),
        save_rstd.data_ptr<T>(), batch_groups, l.groups, l.channels_per_group, l.spatial, eps);
    CUDA_CHECK_LAUNCH();
  });
}

// grad_out, x: (N, C, *spatial); weight: (C) or undefined; save_mean, save_rstd: (N, G) from the
// forward; grad_x: (N, C, *spatial) or undefined; grad_weight, grad_bias: (C) or undefined.
// Overwrites the defined outputs.
void group_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight, const Tensor& save_mean,
                         const Tensor& save_rstd, int64_t num_groups, const Tensor& grad_x, const Tensor& grad_weight,
                         const Tensor& grad_bias) {
  const GroupNormLayout l = kernels::check_group_norm_backward_args(
      grad_out, x, weight, save_mean, save_rstd, num_groups, grad_x, grad_weight, grad_bias, Backend::Cuda);
  dispatch_floating(x.dtype(), "group_norm_backward", [&](auto zero) {
    using T = decltype(zero);
    if (l.channels() == 0) return;
    DeviceGuard guard(x.device().index);
    const cudaStream_t stream = current_stream();
    const int64_t rows = l.batch * l.channels(), batch_groups = l.batch * l.groups;
    const TensorOptions f64 = x.options().with_dtype(DType::Float64);
    // Rows of an empty batch are no rows: the sums below see none and come out zero.
    const Tensor gx_sum = empty({rows}, f64), g_sum = empty({rows}, f64);
    if (rows > 0) {
      row_sums_kernel<T><<<blocks_for_items(rows), kThreadsPerBlock, 0, stream>>>(
          grad_out.data_ptr<T>(), x.data_ptr<T>(), gx_sum.data_ptr<double>(), g_sum.data_ptr<double>(), rows,
          l.spatial);
      CUDA_CHECK_LAUNCH();
    }
    const T* mean = save_mean.data_ptr<T>();
    const T* rstd = save_rstd.data_ptr<T>();
    if (grad_weight.defined() || grad_bias.defined()) {
      param_grads_kernel<T><<<blocks_for(l.channels()), kThreadsPerBlock, 0, stream>>>(
          mean, rstd, gx_sum.data_ptr<double>(), g_sum.data_ptr<double>(), ptr_or_null<T>(grad_weight),
          ptr_or_null<T>(grad_bias), l.batch, l.groups, l.channels_per_group);
      CUDA_CHECK_LAUNCH();
    }
    if (!grad_x.defined() || x.numel() == 0) return;
    const Tensor mean_dxhat = empty({batch_groups}, f64), mean_dxhat_xhat = empty({batch_groups}, f64);
    group_coefficients_kernel<T><<<blocks_for(batch_groups), kThreadsPerBlock, 0, stream>>>(
        ptr_or_null<T>(weight), mean, rstd, gx_sum.data_ptr<double>(), g_sum.data_ptr<double>(),
        mean_dxhat.data_ptr<double>(), mean_dxhat_xhat.data_ptr<double>(), batch_groups, l.groups,
        l.channels_per_group, l.spatial);
    CUDA_CHECK_LAUNCH();
    group_norm_grad_x_kernel<T><<<blocks_for(x.numel()), kThreadsPerBlock, 0, stream>>>(
        grad_out.data_ptr<T>(), x.data_ptr<T>(), ptr_or_null<T>(weight), mean, rstd, mean_dxhat.data_ptr<double>(),
        mean_dxhat_xhat.data_ptr<double>(), grad_x.data_ptr<T>(), x.numel(), l.groups, l.channels_per_group,
        l.spatial);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace maskdet::cuda
