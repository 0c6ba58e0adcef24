// The argument checks of copy and fill (tensor/kernels/copy.h), for both backends
// (tensor/kernels/kernel_checks.h says how they share them). Any strides and dtypes on both.
#pragma once
#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// src, dst: one shape.
inline void check_copy_args(const Tensor& src, const Tensor& dst, Backend backend) {
  check_device(dst.device(), "copy", {{&dst, "dst"}, {&src, "src"}}, backend);
  check_same_shape(src, dst.shape(), "copy", "src");
}

inline void check_fill_args(const Tensor& out, Backend backend) {
  check_device(out.device(), "fill", {{&out, "out"}}, backend);
}

}  // namespace maskdet::kernels
