// Tests of the CUDA context (cuda/context.h) and the copies of cuda/runtime.h: one stream per
// device shared by the cuDNN and cuBLAS handles and every thread, the growing workspace, the
// TF32 switch, and host<->device copies of every size class (plain, pinned in one chunk, pinned
// in many chunks reusing both halves) ordered with the kernels on the stream.
#include <thread>

#include "cuda/pinned.h"
#include "gpu_core_util.h"

namespace maskdet {
namespace {
using namespace test;

TEST(GpuContext, OneStreamSharedByTheLibraryHandles) {
  MASKDET_REQUIRE_GPU();
  const cudaStream_t stream = cuda::current_stream();
  ASSERT_NE(stream, nullptr);  // our own stream, not the legacy default one
  EXPECT_EQ(cuda::current_stream(), stream);
  cudaStream_t cublas_stream = nullptr, cudnn_stream = nullptr;
  CUBLAS_CHECK(cublasGetStream(cuda::cublas_handle(), &cublas_stream));
  CUDNN_CHECK(cudnnGetStream(cuda::cudnn_handle(), &cudnn_stream));
  EXPECT_EQ(cublas_stream, stream);
  EXPECT_EQ(cudnn_stream, stream);
  cuda::synchronize();
}

TEST(GpuContext, EveryThreadSeesTheSameContext) {
  MASKDET_REQUIRE_GPU();
  const cudaStream_t stream = cuda::current_stream();
  std::vector<cudaStream_t> seen(8, nullptr);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i)
    threads.emplace_back([&, i] {
      seen[i] = cuda::current_stream();
      for (int k = 0; k < 50; ++k) {
        const Tensor t = empty({int64_t(1000 + 37 * i + k)}, {DType::Float32, Device::cuda()});
        cuda::fill(t, 1.0);
      }
    });
  for (auto& t : threads) t.join();
  for (cudaStream_t s : seen) EXPECT_EQ(s, stream);
  cuda::synchronize();
}

TEST(GpuContext, WorkspaceGrowsAndIsReused) {
  MASKDET_REQUIRE_GPU();
  void* small = cuda::workspace(1000);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(cuda::workspace(10), small);
  void* large = cuda::workspace(size_t(64) << 20);
  ASSERT_NE(large, nullptr);
  EXPECT_EQ(cuda::workspace(1000), large);
  // It is real device memory of the size asked.
  CUDA_CHECK(cudaMemsetAsync(large, 0, size_t(64) << 20, cuda::current_stream()));
  cuda::synchronize();
}

TEST(GpuContext, Tf32SwitchDefaultsOn) {
  MASKDET_REQUIRE_GPU();
  EXPECT_TRUE(cuda::allow_tf32());
  {
    Fp32Scope fp32;
    EXPECT_FALSE(cuda::allow_tf32());
  }
  EXPECT_TRUE(cuda::allow_tf32());
}

// Uploads and downloads n bytes of a pattern through cuda::memcpy and checks them.
void round_trip(size_t n) {
  SCOPED_TRACE("bytes " + std::to_string(n));
  std::vector<uint8_t> host(n), back(n, 0);
  for (size_t i = 0; i < n; ++i) host[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
  void* device = cuda::device_malloc(n, 0);
  cuda::memcpy(device, host.data(), n, cuda::CopyKind::HostToDevice);
  cuda::memcpy(back.data(), device, n, cuda::CopyKind::DeviceToHost);
  cuda::device_free(device, 0);
  EXPECT_TRUE(back == host);
}

TEST(GpuMemcpy, RoundTripsEverySizeClass) {
  MASKDET_REQUIRE_GPU();
  for (size_t n : {size_t(0), size_t(1), size_t(4097), cuda::kPinnedUploadThreshold - 1, cuda::kPinnedUploadThreshold,
                   cuda::kPinnedChunkBytes, cuda::kPinnedChunkBytes + 3, 5 * cuda::kPinnedChunkBytes + 7})
    round_trip(n);
  EXPECT_EQ(cuda::pinned_staging_bytes(), 2 * cuda::kPinnedChunkBytes);
  cuda::release_pinned_staging();
  EXPECT_EQ(cuda::pinned_staging_bytes(), 0u);
  round_trip(3 * cuda::kPinnedChunkBytes);  // allocates the staging buffer again
}

TEST(GpuMemcpy, TensorUploadsOfEveryDtypeAndLayout) {
  MASKDET_REQUIRE_GPU();
  // Large enough for the pinned path; converted and strided host sources are staged first.
  for (DType dtype : all_dtypes()) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor host = uniform({700, 1001}, dtype, 5, 0.0, 100.0);
    EXPECT_TRUE(tensors_near(on_cpu(on_gpu(host)), host, 0));
    EXPECT_TRUE(tensors_near(on_cpu(on_gpu(host.transpose(0, 1))), host.transpose(0, 1), 0));
    Tensor converted = empty({700, 1001}, {DType::Float64, Device::cuda()});
    kernels::copy(host, converted);
    EXPECT_TRUE(tensors_near(on_cpu(converted), host, 0));
  }
}

TEST(GpuMemcpy, DeviceCopiesAreOrderedWithKernels) {
  MASKDET_REQUIRE_GPU();
  const int64_t n = 3 << 20;
  const Tensor a = empty({n}, {DType::Float32, Device::cuda()});
  const Tensor b = empty({n}, {DType::Float32, Device::cuda()});
  for (double value : {1.0, -3.5, 8.25}) {
    cuda::fill(a, value);  // queued on the stream
    cuda::memcpy(b.raw_data(), a.raw_data(), n * sizeof(float), cuda::CopyKind::DeviceToDevice);  // after it
    const std::vector<float> got = b.to_vector<float>();
    EXPECT_EQ(got.front(), value);
    EXPECT_EQ(got[n / 2], value);
    EXPECT_EQ(got.back(), value);
  }
}

}  // namespace
}  // namespace maskdet
