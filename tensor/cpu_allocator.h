// The host allocator behind every CPU tensor's Storage. Large blocks freed by one training step
// are kept and handed to the next step's tensors of the same size class, instead of going back to
// the kernel: glibc serves blocks above its mmap threshold (at most 32 MiB) with a fresh mmap, so
// every large activation of every step paid a page fault per 4 KiB page and the kernel's zeroing
// of it (a MobileNetV2 training step at 320 px spent about a tenth of its time there). The CUDA
// allocator (cuda/allocator.h) does the same for device memory.
//
// Blocks under kMinCachedBytes go to malloc as they are. Larger ones are rounded up to a size
// class (four per power of two) and cached on release while the cache holds less than the limit,
// MASKDET_CPU_CACHE_MB (default 4096; 0 turns caching off). A request takes the smallest cached
// block that fits and is at most twice its size, as the CUDA allocator does.
#pragma once
#include <cstddef>
#include <cstdint>

namespace maskdet {

inline constexpr size_t kMinCachedBytes = size_t{1} << 20;

struct CpuAllocatorStats {
  size_t cached_bytes = 0;  // in released blocks kept for reuse
  int64_t allocations = 0;  // of at least kMinCachedBytes
  int64_t cache_hits = 0;   // of those, served from the cache
};

// 64-byte aligned, uninitialised; nullptr for 0 bytes. Throws std::bad_alloc when out of memory
// (after giving the cache back and retrying once).
void* cpu_allocate(size_t nbytes);
// Releases a block from cpu_allocate of the same nbytes.
void cpu_release(void* ptr, size_t nbytes) noexcept;
// Frees every cached block.
void cpu_empty_cache() noexcept;
CpuAllocatorStats cpu_allocator_stats();

}  // namespace maskdet
