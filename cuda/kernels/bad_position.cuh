// The device-side range check of the CUDA kernels that read indices from tensor data
// (cuda/kernels/index.cu, cuda/kernels/anchor_matching.cu): a bad index read on the GPU is an
// illegal address that poisons every later CUDA call of the process, and the device cannot throw.
// So a kernel that finds one skips it and records its position with atomicMin in a one-word flag;
// the host reads the flag back (one stream synchronisation) and raises the CPU kernel's error for
// the lowest flagged position, which is the one the CPU's in-order loop stops at. Reference: the
// CUDA C++ Programming Guide on atomicMin. Included by .cu files only.
#pragma once
#include <cstdint>

#include "cuda/context.h"
#include "tensor/creation.h"

namespace maskdet::cuda {

// One device word holding the lowest bad position, or "none", on the current device.
class BadPositionFlag {
 public:
  // Allocates the word on `device` (the current one) and queues its reset on the current stream.
  explicit BadPositionFlag(Device device)
      : word_(empty({1}, TensorOptions{}.with_dtype(DType::Int64).with_device(device))) {
    CUDA_CHECK(cudaMemsetAsync(word_.raw_data(), 0xff, sizeof(unsigned long long), current_stream()));
  }

  // For the kernel: flag_bad_position(get(), p).
  unsigned long long* get() const { return static_cast<unsigned long long*>(word_.raw_data()); }

  // Waits for the kernels queued before it; the lowest position flagged, or -1 when none was.
  int64_t read() const {
    unsigned long long position = kNone;
    maskdet::cuda::memcpy(&position, word_.raw_data(), sizeof position, CopyKind::DeviceToHost);
    return position == kNone ? -1 : static_cast<int64_t>(position);
  }

 private:
  static constexpr unsigned long long kNone = ~0ull;  // what the 0xff bytes of the reset make
  Tensor word_;  // an int64 tensor holding an unsigned long long, so atomicMin orders positions
};

__device__ inline void flag_bad_position(unsigned long long* flag, int64_t position) {
  atomicMin(flag, static_cast<unsigned long long>(position));
}

}  // namespace maskdet::cuda
