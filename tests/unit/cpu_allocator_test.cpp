// The host allocator: large released blocks come back for requests of a similar size (not for a
// much smaller one), blocks are 64-byte aligned, and small ones bypass the cache.
#include <cstdint>

#include "tensor/cpu_allocator.h"
#include "tensor/creation.h"
#include "test_util.h"

namespace maskdet {
namespace {

TEST(CpuAllocator, ReleasedLargeBlocksServeSimilarRequests) {
  cpu_empty_cache();
  const size_t size = 3 * kMinCachedBytes + 100;
  void* first = cpu_allocate(size);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
  cpu_release(first, size);
  const CpuAllocatorStats before = cpu_allocator_stats();
  EXPECT_GE(before.cached_bytes, size);

  void* again = cpu_allocate(size - 1000);  // a little smaller: same block
  EXPECT_EQ(again, first);
  EXPECT_EQ(cpu_allocator_stats().cache_hits, before.cache_hits + 1);
  cpu_release(again, size - 1000);

  void* small = cpu_allocate(kMinCachedBytes);  // under half the cached block: not that one
  EXPECT_NE(small, first);
  cpu_release(small, kMinCachedBytes);
  cpu_empty_cache();
  EXPECT_EQ(cpu_allocator_stats().cached_bytes, 0u);
}

TEST(CpuAllocator, TensorsOfOneSizeReuseTheirStorage) {
  cpu_empty_cache();
  const void* data = nullptr;
  {
    const Tensor t = empty({1024, 1024});  // 4 MiB
    data = t.data_ptr<float>();
  }
  const Tensor u = empty({1024, 1000});
  EXPECT_EQ(u.data_ptr<float>(), data);
  const Tensor small = zeros({16});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small.data_ptr<float>()) % 64, 0u);
}

}  // namespace
}  // namespace maskdet
