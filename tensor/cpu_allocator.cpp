// Size classes, the cache and its limit (cpu_allocator.h).
#include "tensor/cpu_allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

namespace maskdet {

namespace {

size_t size_class(size_t nbytes) {
  if (nbytes < kMinCachedBytes) return (nbytes + 63) / 64 * 64;
  size_t power = kMinCachedBytes;
  while (power * 2 <= nbytes) power *= 2;
  const size_t step = power / 4;
  return (nbytes + step - 1) / step * step;
}

size_t cache_limit() {
  const char* text = std::getenv("MASKDET_CPU_CACHE_MB");
  if (!text || !*text) return size_t{4096} << 20;
  try {
    return static_cast<size_t>(std::stoull(text)) << 20;
  } catch (const std::exception&) {
    return size_t{4096} << 20;
  }
}

struct Cache {
  std::mutex mutex;
  std::multimap<size_t, void*> free_blocks;      // by size
  std::unordered_map<void*, size_t> block_sizes;  // of the cached-size blocks handed out
  CpuAllocatorStats stats;
  const size_t limit = cache_limit();

  void release_all() {
    for (auto& [size, block] : free_blocks) std::free(block);
    free_blocks.clear();
    stats.cached_bytes = 0;
  }
};

Cache& cache() {
  static Cache* instance = new Cache;  // never destroyed: tensors may outlive static destructors
  return *instance;
}

}  // namespace

void* cpu_allocate(size_t nbytes) {
  if (nbytes == 0) return nullptr;
  const size_t rounded = size_class(nbytes);
  if (rounded >= kMinCachedBytes) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    ++c.stats.allocations;
    // The smallest cached block that fits, unless it is more than twice the size: activations of
    // batches of slightly different image sizes then share blocks.
    const auto found = c.free_blocks.lower_bound(rounded);
    if (found != c.free_blocks.end() && found->first <= 2 * rounded) {
      void* p = found->second;
      c.stats.cached_bytes -= found->first;
      c.block_sizes.emplace(p, found->first);
      c.free_blocks.erase(found);
      ++c.stats.cache_hits;
      return p;
    }
  }
  void* p = std::aligned_alloc(64, rounded);
  if (!p) {
    cpu_empty_cache();
    p = std::aligned_alloc(64, rounded);
    if (!p) throw std::bad_alloc();
  }
  if (rounded >= kMinCachedBytes) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    c.block_sizes.emplace(p, rounded);
  }
  return p;
}

void cpu_release(void* ptr, size_t nbytes) noexcept {
  if (!ptr) return;
  const size_t rounded = size_class(nbytes);
  if (rounded >= kMinCachedBytes) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    const auto known = c.block_sizes.find(ptr);
    const size_t size = known != c.block_sizes.end() ? known->second : rounded;
    if (known != c.block_sizes.end()) c.block_sizes.erase(known);
    if (c.stats.cached_bytes + size <= c.limit) {
      try {
        c.free_blocks.emplace(size, ptr);
        c.stats.cached_bytes += size;
        return;
      } catch (...) {
        // No room to remember the block: free it below.
      }
    }
  }
  std::free(ptr);
}

void cpu_empty_cache() noexcept {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.release_all();
}

CpuAllocatorStats cpu_allocator_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.stats;
}

}  // namespace maskdet
