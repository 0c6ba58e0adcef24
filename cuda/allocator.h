// The caching device allocator behind cuda::device_malloc / device_free (and so behind every
// CUDA tensor's Storage). cudaMalloc and cudaFree are slow and cudaFree synchronises the whole
// device, so freed blocks stay cached and are handed out again for requests of a similar size;
// a training step then makes no cudaMalloc after the first. The idea follows PyTorch's
// CUDACachingAllocator ("Pytorch: an imperative style, high-performance deep learning
// library", Paszke et al. 2019, section 5.3), much simplified: no block splitting, one stream.
//
// Reuse is safe without events because all maskdet work runs on one stream per device
// (cuda/context.h): a block freed by the host while kernels using it are still queued is handed
// to a later allocation whose kernels are queued after them on the same stream.
//
// Sizes are rounded up: to 512 bytes up to 1 MiB (the small pool), to 2 MiB above (the large
// pool). A request takes the smallest cached block of its pool that fits and is at most twice
// its rounded size (so a huge cached block is not wasted on a small tensor), else cudaMalloc.
// When cudaMalloc runs out of memory the device's cache is released and the call retried once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace maskdet::cuda {

struct AllocatorStats {
  size_t allocated_bytes = 0;       // in blocks handed out now (rounded sizes)
  size_t reserved_bytes = 0;        // obtained from cudaMalloc and not yet released: handed out + cached
  size_t peak_allocated_bytes = 0;  // the most allocated_bytes has been since the last reset_peak_allocated
  int64_t cuda_malloc_calls = 0;    // successful cudaMalloc calls since the process started
  int64_t cuda_free_calls = 0;      // cudaFree calls (from empty_cache or an out-of-memory retry)
  int64_t allocations = 0;          // caching_malloc calls served (from the cache or cudaMalloc)
  int64_t cache_hits = 0;           // of those, served from the cache
  std::string str() const;          // one line, for errors and logs
};

// A device buffer of at least nbytes on `device`; nullptr for 0 bytes. Throws maskdet::Error
// naming the size and the statistics when the device is out of memory even after the retry.
void* caching_malloc(size_t nbytes, int device);
// Returns a block from caching_malloc to the cache. Never throws (called from destructors); a
// pointer it does not know is reported on stderr and left alone.
void caching_free(void* ptr, int device) noexcept;

// Waits for the device, then cudaFrees every cached block (blocks in use stay).
void empty_cache(int device);
AllocatorStats allocator_stats(int device);
// Starts a new peak: peak_allocated_bytes becomes allocated_bytes.
void reset_peak_allocated(int device);

// The size a request is rounded to (exposed for the tests).
size_t allocation_size(size_t nbytes);

}  // namespace maskdet::cuda
