// The pinned staging buffer of cuda/pinned.h: two halves used alternately, each guarded by an
// event recorded after the DMA that reads it, so the host overwrites a half only once the GPU
// has finished pulling it. Reference: CUDA runtime API (cudaHostAlloc, cudaMemcpyAsync,
// cudaEventRecord / cudaEventSynchronize) and the Best Practices Guide on overlapping transfers.
#include "cuda/pinned.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "cuda/context.h"

namespace maskdet::cuda {
namespace {

std::mutex g_mutex;
// 2 * kPinnedChunkBytes of pinned host memory, allocated portable so a device other than the
// first one to upload can read it too.
char* g_staging = nullptr;

// The two per-upload events; destroyed on every exit path.
struct HalfEvents {
  cudaEvent_t done[2] = {nullptr, nullptr};
  HalfEvents() {
    for (auto& e : done) CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  }
  ~HalfEvents() {
    for (auto e : done)
      if (e) cudaEventDestroy(e);
  }
};

}  // namespace

void upload_via_pinned(void* dst_device, const void* src_host, size_t nbytes) {
  if (nbytes == 0) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_staging) {
    void* p = nullptr;
    CUDA_CHECK(cudaHostAlloc(&p, 2 * kPinnedChunkBytes, cudaHostAllocPortable));
    g_staging = static_cast<char*>(p);
  }
  const cudaStream_t stream = current_stream();
  const auto* src = static_cast<const char*>(src_host);
  auto* dst = static_cast<char*>(dst_device);
  try {
    HalfEvents events;
    for (size_t offset = 0, chunk = 0; offset < nbytes; offset += kPinnedChunkBytes, ++chunk) {
      const int half = static_cast<int>(chunk % 2);
      const size_t len = std::min(kPinnedChunkBytes, nbytes - offset);
      char* staging = g_staging + half * kPinnedChunkBytes;
      // The DMA queued two chunks ago read this half; wait for it before overwriting.
      if (chunk >= 2) CUDA_CHECK(cudaEventSynchronize(events.done[half]));
      std::memcpy(staging, src + offset, len);
      CUDA_CHECK(cudaMemcpyAsync(dst + offset, staging, len, cudaMemcpyHostToDevice, stream));
      CUDA_CHECK(cudaEventRecord(events.done[half], stream));
    }
    CUDA_CHECK(cudaStreamSynchronize(stream));
  } catch (...) {
    // Never leave a DMA reading the staging buffer behind for the next upload to overwrite.
    cudaStreamSynchronize(stream);
    throw;
  }
}

void release_pinned_staging() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_staging) CUDA_CHECK(cudaFreeHost(g_staging));
  g_staging = nullptr;
}

size_t pinned_staging_bytes() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_staging ? 2 * kPinnedChunkBytes : 0;
}

}  // namespace maskdet::cuda
