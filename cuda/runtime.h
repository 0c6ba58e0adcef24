// CUDA runtime plumbing used by the core: checked calls, device discovery, device memory
// (through the caching allocator, cuda/allocator.h) and copies. Compiled only when
// MASKDET_WITH_CUDA is defined. Follows the CUDA runtime API reference.
#pragma once
#include <cstddef>
#include <string>

#include <cuda_runtime_api.h>

#include "tensor/error.h"

// CUDA_CHECK(call): throws maskdet::Error naming the call, file:line and the runtime's own message.
#define CUDA_CHECK(call)                                                                            \
  do {                                                                                              \
    cudaError_t maskdet_cuda_status = (call);                                                       \
    if (maskdet_cuda_status != cudaSuccess)                                                         \
      ::maskdet::detail::throw_error(__FILE__, __LINE__, "CUDA call failed: ", #call, ": ",          \
                                     cudaGetErrorName(maskdet_cuda_status), ": ",                   \
                                     cudaGetErrorString(maskdet_cuda_status));                      \
  } while (0)

// Checks the last kernel launch; put after every <<<...>>>.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

namespace maskdet::cuda {

// Number of usable devices; 0 (never an exception) where the driver or a GPU is missing.
int device_count();
// Empty when a device can be used, else why not (e.g. the runtime's error for cudaGetDeviceCount).
std::string unavailable_reason();

// Device memory from the caching allocator (cuda/allocator.h): freed blocks are reused, so
// steady-state training makes no cudaMalloc. device_free never throws.
void* device_malloc(size_t nbytes, int device);
void device_free(void* ptr, int device);

enum class CopyKind { HostToDevice, DeviceToHost, DeviceToDevice };
// Copies nbytes between contiguous buffers on the current device's stream (cuda/context.h).
// Host<->device copies return when the data has arrived; large uploads go through a pinned
// staging buffer (cuda/pinned.h). Device-to-device copies are only queued: later work on the
// stream sees them, the host does not wait.
void memcpy(void* dst, const void* src, size_t nbytes, CopyKind kind);

// Makes `device` current for its scope and restores the previous one after (a no-op when it
// already is current). Kernels use it so a tensor on cuda:1 runs on cuda:1's stream.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool switched_ = false;
};

}  // namespace maskdet::cuda
