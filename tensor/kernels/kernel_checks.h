// The operand checks every kernel family builds on, and the Backend a family's checks are told
// they run for. Host code only; included by .cpp and .cu files alike.
//
// Each family's argument checks live in one function per kernel, in
// tensor/kernels/<family>_checks.h, and both implementations call it: cpu::<kernel> with
// Backend::Cpu, cuda::<kernel> with Backend::Cuda. They are not run once by the dispatcher
// (tensor/kernels/dispatch.h) because not every caller goes through it: tensor/copy.cpp picks
// cpu::copy or cuda::copy itself, and the CPU-vs-CUDA tests and the CUDA benchmark call cpu:: and
// cuda:: directly and expect each to refuse bad arguments in its own words.
//
// The CUDA kernels demand more than the CPU ones: every operand on the kernel's CUDA device (a
// host pointer read on the GPU is an illegal address far from its cause) and, for most, dense
// memory. The checks add those demands for Backend::Cuda at the place the CUDA kernels have
// always checked them, so both backends keep their messages and the order of their checks.
#pragma once
#include <initializer_list>
#include <utility>

#include "tensor/tensor.h"

namespace maskdet::kernels {

enum class Backend { Cpu, Cuda };

// "<kernel>: <operand> has shape (..), expected (..)", on both backends.
inline void check_same_shape(const Tensor& t, const Shape& shape, const char* kernel, const char* what) {
  MASKDET_CHECK(t.shape() == shape, kernel, ": ", what, " has shape ", shape_str(t.shape()), ", expected ",
                shape_str(shape));
}

// t is defined and on `device`, which is a CUDA device. The CPU kernels never check devices: the
// dispatcher and tensor/copy.cpp hand them host tensors only.
inline void check_on_device(const Tensor& t, Device device, const char* kernel, const char* what) {
  MASKDET_CHECK(t.defined(), kernel, ": ", what, " is undefined");
  MASKDET_CHECK(t.device() == device && device.is_cuda(), kernel, ": ", what, " is on ", t.device().str(),
                ", expected ", device.str(), " (the CUDA kernels need CUDA tensors)");
}

// The same for several operands, named:
//   check_on_device(x.device(), "sum", {{&x, "x"}, {&out, "out"}});
inline void check_on_device(Device device, const char* kernel,
                            std::initializer_list<std::pair<const Tensor*, const char*>> operands) {
  for (const auto& [t, what] : operands) check_on_device(*t, device, kernel, what);
}

// check_on_device for Backend::Cuda, nothing for Backend::Cpu.
inline void check_device(const Tensor& t, Device device, const char* kernel, const char* what, Backend backend) {
  if (backend == Backend::Cuda) check_on_device(t, device, kernel, what);
}
inline void check_device(Device device, const char* kernel,
                         std::initializer_list<std::pair<const Tensor*, const char*>> operands, Backend backend) {
  if (backend == Backend::Cuda) check_on_device(device, kernel, operands);
}

// An operand that goes with x: `shape` and x's dtype; on CUDA also x's device and contiguous.
// An undefined tensor is allowed only when `optional` (e.g. batch norm without affine weights).
inline void check_operand(const Tensor& t, const Tensor& x, const Shape& shape, const char* kernel, const char* what,
                          bool optional, Backend backend) {
  if (!t.defined()) {
    MASKDET_CHECK(optional, kernel, ": ", what, " must be defined");
    return;
  }
  check_device(t, x.device(), kernel, what, backend);
  check_same_shape(t, shape, kernel, what);
  MASKDET_CHECK(t.dtype() == x.dtype(), kernel, ": ", what, " is ", dtype_name(t.dtype()), " but x is ",
                dtype_name(x.dtype()));
  if (backend == Backend::Cuda)
    MASKDET_CHECK(t.is_contiguous(), kernel, ": ", what, " must be contiguous on CUDA (strides ",
                  shape_str(t.strides()), ")");
}

}  // namespace maskdet::kernels
