// How a kernel call finds its implementation.
//
// Every kernel has one signature, declared in tensor/kernels/<family>.h twice: in
// namespace maskdet::cpu (implemented in tensor/cpu/<family>.cpp) and in namespace
// maskdet::cuda (implemented in cuda/kernels/<family>.cu). The inline function of the
// same name in maskdet::kernels is the dispatcher: it looks at the device of the tensor
// the kernel works on and calls one of the two. Ops (autograd/ops) only call kernels::.
//
// Kernels never allocate their outputs: the caller passes them, and each kernel's comment
// says whether it overwrites its output or adds to it.
//
// The dispatcher checks no arguments: cpu:: and cuda:: are called directly too, so each runs its
// family's shared checks itself (tensor/kernels/kernel_checks.h).
#pragma once
#include "tensor/tensor.h"

namespace maskdet {
// Thrown by the dispatcher for a CUDA tensor when the CUDA kernels are not compiled in.
[[noreturn]] void no_cuda_kernel(const char* kernel);
}  // namespace maskdet

#ifdef MASKDET_WITH_CUDA_KERNELS
#define MASKDET_DISPATCH(device, kernel, ...) \
  ((device).is_cuda() ? ::maskdet::cuda::kernel(__VA_ARGS__) : ::maskdet::cpu::kernel(__VA_ARGS__))
#else
#define MASKDET_DISPATCH(device, kernel, ...) \
  ((device).is_cuda() ? ::maskdet::no_cuda_kernel(#kernel) : ::maskdet::cpu::kernel(__VA_ARGS__))
#endif

// Declares one kernel signature in both backends and its dispatcher on `device_expr`.
//   MASKDET_KERNEL(relu_forward, (const Tensor& x, const Tensor& out), x.device(), x, out)
#define MASKDET_KERNEL(name, params, device_expr, ...)                                      \
  namespace cpu {                                                                         \
  void name params;                                                                       \
  }                                                                                       \
  namespace cuda {                                                                        \
  void name params;                                                                       \
  }                                                                                       \
  namespace kernels {                                                                     \
  inline void name params { MASKDET_DISPATCH(device_expr, name, __VA_ARGS__); }           \
  }
