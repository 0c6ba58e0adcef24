// CUDA runtime plumbing used by the core: checked calls, device discovery, device memory
// and copies. Compiled only when MASKDET_WITH_CUDA is defined.
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

void* device_malloc(size_t nbytes, int device);
void device_free(void* ptr, int device);

enum class CopyKind { HostToDevice, DeviceToHost, DeviceToDevice };
// Synchronous copy of nbytes between contiguous buffers.
void memcpy(void* dst, const void* src, size_t nbytes, CopyKind kind);

}  // namespace maskdet::cuda
