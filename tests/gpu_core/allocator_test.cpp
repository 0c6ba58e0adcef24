// Tests of the caching device allocator (cuda/allocator.h): size classes, reuse without new
// cudaMalloc calls (an allocation sequence repeated, a small training step repeated),
// empty_cache, the peak, out-of-memory errors. Statistics are process-wide, so every check is
// on differences between two readings.
#include "cuda/allocator.h"
#include "gpu_core_util.h"
#include "tensor/kernels/matmul.h"
#include "tensor/kernels/optim.h"
#include "tensor/kernels/reduce.h"

namespace maskdet {
namespace {
using namespace test;

constexpr size_t kMiB = size_t(1) << 20;

TEST(GpuAllocator, RoundsRequestsToSizeClasses) {
  MASKDET_REQUIRE_GPU();
  EXPECT_EQ(cuda::allocation_size(1), 512u);
  EXPECT_EQ(cuda::allocation_size(512), 512u);
  EXPECT_EQ(cuda::allocation_size(513), 1024u);
  EXPECT_EQ(cuda::allocation_size(kMiB), kMiB);
  EXPECT_EQ(cuda::allocation_size(kMiB + 1), 2 * kMiB);
  EXPECT_EQ(cuda::allocation_size(3 * kMiB), 4 * kMiB);
  EXPECT_EQ(cuda::allocation_size(4 * kMiB + 1), 6 * kMiB);
  EXPECT_EQ(cuda::device_malloc(0, 0), nullptr);
}

// Allocates and frees a fixed mix of small and large tensors, some freed midway.
void allocation_sequence() {
  std::vector<Tensor> live;
  for (int64_t n : {1, 100, 1000, 100000, 1 << 18, 3 << 18, 123457})
    live.push_back(empty({n}, {DType::Float32, Device::cuda()}));
  live.erase(live.begin() + 2);
  live.push_back(empty({777}, {DType::Float32, Device::cuda()}));
  live.erase(live.begin() + 4);
  live.push_back(empty({200000}, {DType::Float64, Device::cuda()}));
}

TEST(GpuAllocator, SecondIdenticalSequenceMakesNoCudaMalloc) {
  MASKDET_REQUIRE_GPU();
  allocation_sequence();
  const cuda::AllocatorStats before = cuda::allocator_stats(0);
  allocation_sequence();
  const cuda::AllocatorStats after = cuda::allocator_stats(0);
  EXPECT_EQ(after.cuda_malloc_calls, before.cuda_malloc_calls) << after.str();
  EXPECT_EQ(after.cache_hits - before.cache_hits, 9) << after.str();
  EXPECT_EQ(after.allocations - before.allocations, 9);
  EXPECT_EQ(after.allocated_bytes, before.allocated_bytes);
  EXPECT_EQ(after.reserved_bytes, before.reserved_bytes);
}

TEST(GpuAllocator, TrainingStepMakesNoCudaMallocAfterTheFirst) {
  MASKDET_REQUIRE_GPU();
  // A linear layer trained with AdamW and clipped: uploads, GEMMs, reductions, the workspace
  // (chunked sum, norm) and the optimiser, all allocating their temporaries each step.
  const Tensor w = on_gpu(uniform({300, 200}, DType::Float32, 1));
  const Tensor m = on_gpu(zeros({300, 200})), v = on_gpu(zeros({300, 200}));
  int64_t mallocs_after_first = -1;
  for (int64_t step = 1; step <= 4; ++step) {
    const Tensor x = on_gpu(uniform({64, 300}, DType::Float32, 10 + step));
    Tensor y = empty({64, 200}, {DType::Float32, Device::cuda()});
    cuda::gemm(x, false, w, false, y, 1.0, 0.0);
    Tensor loss = empty({1, 1}, {DType::Float32, Device::cuda()});
    cuda::sum_forward(y, {0, 1}, loss);
    Tensor grad = empty({300, 200}, {DType::Float32, Device::cuda()});
    cuda::gemm(x, true, y, false, grad, 1.0 / 64, 0.0);
    Tensor norm = empty({1}, {DType::Float64, Device::cuda()});
    cuda::norm_partial(grad, 2.0, norm);
    cuda::adamw_update(w, grad, m, v, 1e-3, 0.9, 0.999, 1e-8, 1e-2, step);
    EXPECT_TRUE(std::isfinite(loss.item()) && std::isfinite(norm.item()));
    const int64_t mallocs = cuda::allocator_stats(0).cuda_malloc_calls;
    if (step == 1) mallocs_after_first = mallocs;
    else EXPECT_EQ(mallocs, mallocs_after_first) << "step " << step << ": " << cuda::allocator_stats(0).str();
  }
}

TEST(GpuAllocator, EmptyCacheReleasesFreedBlocksOnly) {
  MASKDET_REQUIRE_GPU();
  const Tensor kept = empty({1 << 20}, {DType::Float32, Device::cuda()});  // 4 MiB in use throughout
  { const Tensor freed = empty({1 << 22}, {DType::Float32, Device::cuda()}); }  // 16 MiB back to the cache
  const cuda::AllocatorStats cached = cuda::allocator_stats(0);
  EXPECT_GE(cached.reserved_bytes - cached.allocated_bytes, 16 * kMiB) << cached.str();
  cuda::empty_cache(0);
  const cuda::AllocatorStats released = cuda::allocator_stats(0);
  EXPECT_EQ(released.reserved_bytes, released.allocated_bytes) << released.str();
  EXPECT_EQ(released.allocated_bytes, cached.allocated_bytes);
  EXPECT_GT(released.cuda_free_calls, cached.cuda_free_calls);
  // The block still in use survived: the tensor can be written and read.
  cuda::fill(kept, 2.0);
  EXPECT_EQ(kept.slice(0, 12345, 12346).item(), 2.0);
}

TEST(GpuAllocator, PeakTracksTheHighestAllocation) {
  MASKDET_REQUIRE_GPU();
  cuda::empty_cache(0);  // so both blocks below are fresh, of exactly their rounded sizes
  cuda::reset_peak_allocated(0);
  const size_t base = cuda::allocator_stats(0).allocated_bytes;
  EXPECT_EQ(cuda::allocator_stats(0).peak_allocated_bytes, base);
  {
    const Tensor a = empty({10 << 18}, {DType::Float32, Device::cuda()});  // 10 MiB
    const Tensor b = empty({3}, {DType::Float32, Device::cuda()});
  }
  const cuda::AllocatorStats after = cuda::allocator_stats(0);
  EXPECT_EQ(after.allocated_bytes, base);
  EXPECT_EQ(after.peak_allocated_bytes, base + 10 * kMiB + 512) << after.str();
}

TEST(GpuAllocator, OutOfMemoryNamesTheSizeAndLeavesTheDeviceUsable) {
  MASKDET_REQUIRE_GPU();
  const size_t huge = size_t(1) << 50;  // 1 PiB
  EXPECT_ERROR_CONTAINS(cuda::device_malloc(huge, 0), "CUDA out of memory: cannot allocate 1125899906842624 bytes");
  const std::string message = error_message([&] { cuda::device_malloc(huge, 0); });
  EXPECT_NE(message.find("allocator: allocated"), std::string::npos) << message;
  const Tensor t = on_gpu(from_vector<double>({1, 2, 3}, {3}, {DType::Float64}));
  EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{1, 2, 3}));
}

TEST(GpuAllocator, FreeingAnUnknownPointerIsReportedNotFatal) {
  MASKDET_REQUIRE_GPU();
  int host_value = 0;
  const cuda::AllocatorStats before = cuda::allocator_stats(0);
  cuda::device_free(&host_value, 0);  // prints a warning on stderr
  cuda::device_free(nullptr, 0);
  const cuda::AllocatorStats after = cuda::allocator_stats(0);
  EXPECT_EQ(after.allocated_bytes, before.allocated_bytes);
  EXPECT_EQ(after.reserved_bytes, before.reserved_bytes);
}

}  // namespace
}  // namespace maskdet
