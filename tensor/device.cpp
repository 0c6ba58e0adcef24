#include "tensor/device.h"

#include "tensor/error.h"
#ifdef MASKDET_WITH_CUDA
#include "cuda/runtime.h"
#endif

namespace maskdet {

Device parse_device(const std::string& s) {
  if (s == "cpu") return Device::cpu();
  if (s == "cuda") return Device::cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    try {
      return Device::cuda(std::stoi(s.substr(5)));
    } catch (const std::exception&) {
    }
  }
  MASKDET_FAIL("unknown device '", s, "': expected cpu, cuda or cuda:N");
}

bool cuda_available() { return cuda_unavailable_reason().empty(); }

std::string cuda_unavailable_reason() {
#ifdef MASKDET_WITH_CUDA
  return cuda::unavailable_reason();
#else
  return "this build of maskdet has no CUDA (configured with MASKDET_CUDA=OFF or nvcc/cuDNN not found)";
#endif
}

}  // namespace maskdet
