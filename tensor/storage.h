// Storage: a reference-counted block of bytes on one device. Tensors are views into it
// (shape, strides, offset), so reshapes and slices share one Storage without copying.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>

#include "tensor/device.h"

namespace maskdet {

class Storage {
 public:
  // Allocates nbytes on `device` (64-byte aligned on the CPU). Contents are uninitialised.
  Storage(size_t nbytes, Device device);
  // Wraps memory owned elsewhere; `release` is called once when the storage dies (may be empty).
  Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> release);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  std::function<void(void*)> release_;
};

}  // namespace maskdet
