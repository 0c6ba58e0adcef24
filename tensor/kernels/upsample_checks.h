// The argument checks of the upsampling kernels (tensor/kernels/upsample.h), for both backends
// (tensor/kernels/kernel_checks.h says how they share them).
#pragma once
#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// Either direction's (N, C, H, W) input-side and (N, C, OH, OW) output-side operands: x and out
// forward, grad_x and grad_out backward.
inline void check_upsample_nearest2d_args(const Tensor& small, const Tensor& large, const char* kernel,
                                          Backend backend) {
  check_device(small, small.device(), kernel, "the (N, C, H, W) operand", backend);
  check_device(large, small.device(), kernel, "the (N, C, OH, OW) operand", backend);
  MASKDET_CHECK(small.dim() == 4 && large.dim() == 4 && small.size(0) == large.size(0) &&
                    small.size(1) == large.size(1),
                kernel, ": expected (N, C, H, W) and (N, C, OH, OW), got ", shape_str(small.shape()), " and ",
                shape_str(large.shape()));
  MASKDET_CHECK(small.size(2) > 0 && small.size(3) > 0, kernel, ": empty input plane ", shape_str(small.shape()));
  MASKDET_CHECK(small.is_contiguous() && large.is_contiguous(), kernel, ": operands must be contiguous");
  MASKDET_CHECK(small.dtype() == large.dtype(), kernel, ": dtypes differ: ", dtype_name(small.dtype()), " and ",
                dtype_name(large.dtype()));
}

}  // namespace maskdet::kernels
