// The NCCL process group on CUDA buffers, bootstrapped through Gloo (its ncclUniqueId broadcast
// over the CPU group): an all-reduce and a broadcast on up to two GPUs, one rank (thread) each.
// Needs a CUDA device and a build with the CUDA backend and NCCL; skipped, saying which is
// missing, elsewhere.
#include <gtest/gtest.h>

#ifdef MASKDET_HAVE_NCCL
#include <cuda_runtime.h>

#include <algorithm>

#include "apps/dist/nccl_process_group.h"
#include "cuda/runtime.h"
#include "dist/thread_ranks.h"
#endif

namespace maskdet::dist_test {
namespace {

#ifdef MASKDET_HAVE_NCCL
TEST(NcclProcessGroup, SumsAndBroadcastsDeviceBuffers) {
  const int gpus = cuda::device_count();
  if (gpus < 1) GTEST_SKIP() << "no usable CUDA device: " << cuda::unavailable_reason();
  // NCCL wants one device per rank of a communicator.
  const int world = std::min(gpus, 2);
  run_ranks(world, std::chrono::seconds(60), [world](dist::ProcessGroup& cpu) {
    CUDA_CHECK(cudaSetDevice(cpu.rank()));
    const auto group = dist::make_nccl_process_group(cpu, std::chrono::seconds(60));
    EXPECT_EQ(group->backend(), "nccl");
    EXPECT_EQ(group->world_size(), world);
    const std::vector<float> mine = {1.0f + cpu.rank(), -2.0f * cpu.rank(), 0.5f};
    float* device = nullptr;  // (3) floats
    CUDA_CHECK(cudaMalloc(&device, sizeof(float) * mine.size()));
    CUDA_CHECK(cudaMemcpy(device, mine.data(), sizeof(float) * mine.size(), cudaMemcpyHostToDevice));
    group->all_reduce_sum(device, mine.size(), "test floats");
    std::vector<float> summed(mine.size());
    CUDA_CHECK(cudaMemcpy(summed.data(), device, sizeof(float) * summed.size(), cudaMemcpyDeviceToHost));
    std::vector<float> expected(mine.size(), 0.0f);
    for (int r = 0; r < world; ++r) {
      expected[0] += 1.0f + r;
      expected[1] += -2.0f * r;
      expected[2] += 0.5f;
    }
    EXPECT_EQ(summed, expected);
    const float root_value = cpu.rank() == 0 ? 42.0f : -1.0f;
    CUDA_CHECK(cudaMemcpy(device, &root_value, sizeof(float), cudaMemcpyHostToDevice));
    group->broadcast(device, sizeof(float), 0, "test float");
    float received = 0;
    CUDA_CHECK(cudaMemcpy(&received, device, sizeof(float), cudaMemcpyDeviceToHost));
    EXPECT_EQ(received, 42.0f);
    group->barrier("test");
    CUDA_CHECK(cudaFree(device));
  });
}
#else
TEST(NcclProcessGroup, SumsAndBroadcastsDeviceBuffers) {
  GTEST_SKIP() << "built without the CUDA backend or NCCL (MASKDET_HAVE_NCCL): the NCCL process group is left out";
}
#endif

}  // namespace
}  // namespace maskdet::dist_test
