// Helpers for the CPU-vs-CUDA tests (label gpu).
#pragma once
#include <string>

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

// An error message without its " (file:line)" suffix, so the two backends' can be compared.
inline std::string without_location(const std::string& message) {
  const size_t at = message.rfind(" (");
  return at == std::string::npos ? message : message.substr(0, at);
}

}  // namespace maskdet::test
