// The operand-shape check every kernel family shares, worded the same on both backends
// ("<kernel>: <operand> has shape (..), expected (..)"); tensor/cpu/strided_loop.h's
// check_same_shape is the CPU's copy of it.
#pragma once
#include "tensor/tensor.h"

namespace maskdet::kernels {

inline void check_same_shape(const Tensor& t, const Shape& shape, const char* kernel, const char* what) {
  MASKDET_CHECK(t.shape() == shape, kernel, ": ", what, " has shape ", shape_str(t.shape()), ", expected ",
                shape_str(shape));
}

}  // namespace maskdet::kernels
