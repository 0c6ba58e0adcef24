// The CUDA device context every CUDA kernel of maskdet runs in: one stream, the cuDNN and cuBLAS
// handles bound to it, and a reusable workspace, per device (created on first use, per thread
// safe to read). Kernels launch on current_stream() and check the launch with CUDA_CHECK_LAUNCH.
// cuDNN / cuBLAS calls are checked with CUDNN_CHECK / CUBLAS_CHECK, which report the call,
// file:line and the library's own status string.
#pragma once
#include <cstddef>

#include <cublas_v2.h>
#include <cudnn.h>

#include "cuda/runtime.h"

#define CUDNN_CHECK(call)                                                                          \
  do {                                                                                             \
    cudnnStatus_t maskdet_cudnn_status = (call);                                                   \
    if (maskdet_cudnn_status != CUDNN_STATUS_SUCCESS)                                              \
      ::maskdet::detail::throw_error(__FILE__, __LINE__, "cuDNN call failed: ", #call, ": ",       \
                                     cudnnGetErrorString(maskdet_cudnn_status));                   \
  } while (0)

#define CUBLAS_CHECK(call)                                                                         \
  do {                                                                                             \
    cublasStatus_t maskdet_cublas_status = (call);                                                 \
    if (maskdet_cublas_status != CUBLAS_STATUS_SUCCESS)                                            \
      ::maskdet::detail::throw_error(__FILE__, __LINE__, "cuBLAS call failed: ", #call, ": ",      \
                                     cublasGetStatusName(maskdet_cublas_status), ": ",             \
                                     cublasGetStatusString(maskdet_cublas_status));                \
  } while (0)

namespace maskdet::cuda {

// The stream of the current device; all maskdet work is ordered on it.
cudaStream_t current_stream();
cudnnHandle_t cudnn_handle();
cublasHandle_t cublas_handle();
// A device buffer of at least `nbytes` for library workspaces, reused between calls (grows only).
// Valid until the next call on the same device.
void* workspace(size_t nbytes);
// TF32 tensor-core math for float32 GEMMs and convolutions: allowed by default, as PyTorch's
// cuDNN convolutions; set_allow_tf32(false) gives full float32 (the CPU-vs-CUDA tests do).
bool allow_tf32();
void set_allow_tf32(bool allow);
// Waits for the current stream (host round trips: item(), copies to the host, logging).
void synchronize();

// Threads per block and a grid size covering n elements with grid-stride loops.
constexpr int kThreadsPerBlock = 256;
inline unsigned blocks_for(int64_t n) {
  const int64_t blocks = (n + kThreadsPerBlock - 1) / kThreadsPerBlock;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 * 8 ? 65535 * 8 : blocks));
}

}  // namespace maskdet::cuda
