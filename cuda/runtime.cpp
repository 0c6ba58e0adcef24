// The CUDA runtime plumbing of cuda/runtime.h. Reference: the CUDA runtime API documentation
// (cudaGetDeviceCount, cudaMemcpyAsync, cudaSetDevice).
#include "cuda/runtime.h"

#include "cuda/allocator.h"
#include "cuda/context.h"
#include "cuda/pinned.h"

namespace maskdet::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later checks do not see it
    return 0;
  }
  return n;
}

std::string unavailable_reason() {
  int n = 0;
  const cudaError_t status = cudaGetDeviceCount(&n);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return std::string("cudaGetDeviceCount failed: ") + cudaGetErrorName(status) + ": " + cudaGetErrorString(status);
  }
  if (n == 0) return "no CUDA device found";
  return "";
}

void* device_malloc(size_t nbytes, int device) { return caching_malloc(nbytes, device); }

void device_free(void* ptr, int device) { caching_free(ptr, device); }

void memcpy(void* dst, const void* src, size_t nbytes, CopyKind kind) {
  if (nbytes == 0) return;
  if (kind == CopyKind::HostToDevice && nbytes >= kPinnedUploadThreshold) {
    upload_via_pinned(dst, src, nbytes);
    return;
  }
  const cudaMemcpyKind k = kind == CopyKind::HostToDevice   ? cudaMemcpyHostToDevice
                           : kind == CopyKind::DeviceToHost ? cudaMemcpyDeviceToHost
                                                            : cudaMemcpyDeviceToDevice;
  // On maskdet's stream rather than cudaMemcpy's legacy default stream, so the copy is ordered
  // after the kernels that produced src and before those that read dst.
  const cudaStream_t stream = current_stream();
  CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, k, stream));
  if (kind != CopyKind::DeviceToDevice) CUDA_CHECK(cudaStreamSynchronize(stream));
}

DeviceGuard::DeviceGuard(int device) {
  CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device) {
    CUDA_CHECK(cudaSetDevice(device));
    switched_ = true;
  }
}

DeviceGuard::~DeviceGuard() {
  if (switched_) cudaSetDevice(previous_);  // never throws from a destructor
}

}  // namespace maskdet::cuda
