// Helpers for the CPU-vs-CUDA tests (label gpu).
#pragma once
#include "test_util.h"

// Skips the test, printing why, where no GPU or driver is present.
#define MASKDET_REQUIRE_GPU()                                                              \
  do {                                                                                     \
    if (!::maskdet::cuda_available())                                                      \
      GTEST_SKIP() << "no usable GPU: " << ::maskdet::cuda_unavailable_reason();           \
  } while (0)

namespace maskdet::test {

inline Tensor on_gpu(const Tensor& t) { return t.detach().to(Device::cuda()); }
inline Tensor on_cpu(const Tensor& t) { return t.detach().to(Device::cpu()); }

}  // namespace maskdet::test
