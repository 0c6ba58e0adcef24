#include "tensor/storage.h"

#include "tensor/cpu_allocator.h"
#include "tensor/error.h"
#ifdef MASKDET_WITH_CUDA
#include "cuda/runtime.h"
#endif

namespace maskdet {

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device.is_cpu()) {
    data_ = cpu_allocate(nbytes);
    release_ = [nbytes](void* p) { cpu_release(p, nbytes); };
  } else {
#ifdef MASKDET_WITH_CUDA
    data_ = cuda::device_malloc(nbytes, device.index);
    const int index = device.index;
    release_ = [index](void* p) { cuda::device_free(p, index); };
#else
    MASKDET_FAIL("cannot allocate on ", device.str(), ": this build of maskdet has no CUDA (MASKDET_CUDA=OFF)");
#endif
  }
}

Storage::Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> release)
    : data_(data), nbytes_(nbytes), device_(device), release_(std::move(release)) {}

Storage::~Storage() {
  if (release_ && data_) release_(data_);
}

}  // namespace maskdet
