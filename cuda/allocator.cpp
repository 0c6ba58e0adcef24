// The caching device allocator of cuda/allocator.h. Reference: PyTorch's CUDACachingAllocator
// design (size-class pools, best fit, free-cache-and-retry on out-of-memory), without splitting
// blocks and with a single stream per device.
#include "cuda/allocator.h"

#include <cstdio>
#include <map>
#include <mutex>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "cuda/runtime.h"

namespace maskdet::cuda {
namespace {

constexpr size_t kSmallLimit = size_t(1) << 20;  // requests up to 1 MiB use the small pool
constexpr size_t kSmallGranule = 512;
constexpr size_t kLargeGranule = size_t(2) << 20;

struct DeviceCache {
  std::mutex mutex;
  // Cached (free) blocks by size; a multimap because many blocks share a size class.
  std::multimap<size_t, void*> free_small, free_large;
  // Blocks handed out, with their (rounded) size.
  std::unordered_map<void*, size_t> in_use;
  AllocatorStats stats;

  std::multimap<size_t, void*>& pool_for(size_t size) { return size <= kSmallLimit ? free_small : free_large; }

  // cudaFrees every cached block. The caller holds the mutex and has synchronised the device,
  // so no queued kernel still reads a cached block.
  void release_cached() {
    for (auto* pool : {&free_small, &free_large}) {
      for (const auto& [size, ptr] : *pool) {
        cudaFree(ptr);  // an error here would only leak the block; nothing to recover
        stats.reserved_bytes -= size;
        ++stats.cuda_free_calls;
      }
      pool->clear();
    }
  }
};

std::mutex g_caches_mutex;
// One cache per device, never destroyed: tensors freed by static destructors at exit still
// return their blocks here, and the driver may be gone by then anyway.
std::vector<DeviceCache*> g_caches;

DeviceCache& cache_for(int device) {
  MASKDET_CHECK(device >= 0, "CUDA allocator: invalid device index ", device);
  std::lock_guard<std::mutex> lock(g_caches_mutex);
  if (static_cast<size_t>(device) >= g_caches.size()) g_caches.resize(device + 1, nullptr);
  if (!g_caches[device]) g_caches[device] = new DeviceCache();
  return *g_caches[device];
}

void note_allocation(DeviceCache& cache, void* ptr, size_t size) {
  cache.in_use.emplace(ptr, size);
  cache.stats.allocated_bytes += size;
  if (cache.stats.allocated_bytes > cache.stats.peak_allocated_bytes)
    cache.stats.peak_allocated_bytes = cache.stats.allocated_bytes;
  ++cache.stats.allocations;
}

}  // namespace

std::string AllocatorStats::str() const {
  std::ostringstream os;
  os << "allocated " << allocated_bytes << " B, reserved " << reserved_bytes << " B, peak allocated "
     << peak_allocated_bytes << " B, " << cuda_malloc_calls << " cudaMalloc / " << cuda_free_calls << " cudaFree calls, "
     << allocations << " allocations (" << cache_hits << " from the cache)";
  return os.str();
}

size_t allocation_size(size_t nbytes) {
  const size_t granule = nbytes <= kSmallLimit ? kSmallGranule : kLargeGranule;
  return (nbytes + granule - 1) / granule * granule;
}

void* caching_malloc(size_t nbytes, int device) {
  if (nbytes == 0) return nullptr;
  const size_t size = allocation_size(nbytes);
  DeviceCache& cache = cache_for(device);
  std::lock_guard<std::mutex> lock(cache.mutex);

  auto& pool = cache.pool_for(size);
  const auto best = pool.lower_bound(size);
  if (best != pool.end() && best->first <= 2 * size) {
    const size_t block_size = best->first;
    void* ptr = best->second;
    pool.erase(best);
    note_allocation(cache, ptr, block_size);
    ++cache.stats.cache_hits;
    return ptr;
  }

  DeviceGuard guard(device);
  void* ptr = nullptr;
  cudaError_t status = cudaMalloc(&ptr, size);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the error before retrying
    // Cached blocks may still be read by queued kernels: wait for them before freeing.
    CUDA_CHECK(cudaDeviceSynchronize());
    cache.release_cached();
    status = cudaMalloc(&ptr, size);
  }
  if (status != cudaSuccess) {
    cudaGetLastError();
    MASKDET_FAIL("CUDA out of memory: cannot allocate ", nbytes, " bytes (", size, " rounded) on cuda:", device,
                 " even after releasing the cache: ", cudaGetErrorName(status), ": ", cudaGetErrorString(status),
                 "; allocator: ", cache.stats.str());
  }
  ++cache.stats.cuda_malloc_calls;
  cache.stats.reserved_bytes += size;
  note_allocation(cache, ptr, size);
  return ptr;
}

void caching_free(void* ptr, int device) noexcept {
  if (!ptr) return;
  try {
    DeviceCache& cache = cache_for(device);
    std::lock_guard<std::mutex> lock(cache.mutex);
    const auto it = cache.in_use.find(ptr);
    if (it == cache.in_use.end()) {
      std::fprintf(stderr, "maskdet: caching_free: %p was not allocated on cuda:%d by the caching allocator\n", ptr,
                   device);
      return;
    }
    const size_t size = it->second;
    cache.in_use.erase(it);
    cache.stats.allocated_bytes -= size;
    cache.pool_for(size).emplace(size, ptr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "maskdet: caching_free failed: %s\n", e.what());
  }
}

void empty_cache(int device) {
  DeviceCache& cache = cache_for(device);
  std::lock_guard<std::mutex> lock(cache.mutex);
  DeviceGuard guard(device);
  CUDA_CHECK(cudaDeviceSynchronize());
  cache.release_cached();
}

AllocatorStats allocator_stats(int device) {
  DeviceCache& cache = cache_for(device);
  std::lock_guard<std::mutex> lock(cache.mutex);
  return cache.stats;
}

void reset_peak_allocated(int device) {
  DeviceCache& cache = cache_for(device);
  std::lock_guard<std::mutex> lock(cache.mutex);
  cache.stats.peak_allocated_bytes = cache.stats.allocated_bytes;
}

}  // namespace maskdet::cuda
