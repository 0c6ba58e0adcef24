// CUDA SiLU kernels (tensor/kernels/silu.h), one thread per element in a grid-stride loop (the
// pattern of NVIDIA's "CUDA Pro Tip: Write Flexible Kernels with Grid-Stride Loops"), launched
// on the device's maskdet stream (cuda/context.h). The per-element maths is the CPU kernel's,
// from tensor/kernels/silu_math.h.
//
// Contiguous operands only: flat indices then are element indices, and the op (autograd/ops/
// silu.cpp) already hands CUDA tensors over contiguous. The dispatcher calls these only when the
// build defines MASKDET_WITH_CUDA_KERNELS; until then they are compiled and reached directly by
// the CPU-vs-CUDA test.
#include "cuda/context.h"
#include "tensor/kernels/silu.h"
#include "tensor/kernels/silu_checks.h"
#include "tensor/kernels/silu_math.h"

namespace maskdet::cuda {

namespace {

// x, out: (n) dense. Overwrites out.
template <class T>
__global__ void silu_forward_kernel(const T* x, T* out, int64_t n) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = kernels::silu_math::value(x[i]);
}

// grad_out, x, grad_x: (n) dense. Overwrites grad_x.
template <class T>
__global__ void silu_backward_kernel(const T* grad_out, const T* x, T* grad_x, int64_t n) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    grad_x[i] = grad_out[i] * kernels::silu_math::derivative(x[i]);
}

}  // namespace

// x, out: contiguous, one shape and dtype, on one GPU.
void silu_forward(const Tensor& x, const Tensor& out) {
  kernels::check_silu_forward_args(x, out, kernels::Backend::Cuda);
  const int64_t n = x.numel();
  if (n == 0) return;
  // The tensor's GPU must be current: the stream below and the kernel belong to it.
  DeviceGuard guard(x.device().index);
  dispatch_floating(x.dtype(), "silu", [&](auto zero) {
    using T = decltype(zero);
    silu_forward_kernel<T><<<blocks_for(n), kThreadsPerBlock, 0, current_stream()>>>(x.data_ptr<T>(),
                                                                                    out.data_ptr<T>(), n);
    CUDA_CHECK_LAUNCH();
  });
}

// grad_out, x, grad_x: contiguous, one shape and dtype, on one GPU.
void silu_backward(const Tensor& grad_out, const Tensor& x, const Tensor& grad_x) {
  kernels::check_silu_backward_args(grad_out, x, grad_x, kernels::Backend::Cuda);
  const int64_t n = x.numel();
  if (n == 0) return;
  DeviceGuard guard(x.device().index);
  dispatch_floating(x.dtype(), "silu_backward", [&](auto zero) {
    using T = decltype(zero);
    silu_backward_kernel<T><<<blocks_for(n), kThreadsPerBlock, 0, current_stream()>>>(
        grad_out.data_ptr<T>(), x.data_ptr<T>(), grad_x.data_ptr<T>(), n);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace maskdet::cuda
