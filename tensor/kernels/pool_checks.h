// The argument checks of the max-pooling kernels (tensor/kernels/pool.h), for both backends
// (tensor/kernels/kernel_checks.h says how they share them).
#pragma once
#include "tensor/kernels/kernel_checks.h"
#include "tensor/kernels/pool.h"

namespace maskdet::kernels {

// A contiguous operand of `shape`; on CUDA also on ref's device.
inline void check_pool_operand(const Tensor& t, const Tensor& ref, const Shape& shape, const char* kernel,
                               const char* what, Backend backend) {
  check_device(t, ref.device(), kernel, what, backend);
  check_same_shape(t, shape, kernel, what);
  MASKDET_CHECK(t.is_contiguous(), kernel, ": ", what, " must be contiguous");
}

// x: (N, C, H, W); out, indices: (N, C, OH, OW), OH and OW from pool_output_size.
inline void check_max_pool2d_forward_args(const Tensor& x, const Tensor& out, const Tensor& indices,
                                          const Pool2dWindow& window, Backend backend) {
  constexpr const char* kernel = "max_pool2d_forward";
  check_device(x, x.device(), kernel, "x", backend);
  MASKDET_CHECK(x.dim() == 4, kernel, ": x must be (N, C, H, W), got shape ", shape_str(x.shape()));
  MASKDET_CHECK(window.kernel_h > 0 && window.kernel_w > 0 && window.stride_h > 0 && window.stride_w > 0, kernel,
                ": kernel and stride must be positive");
  MASKDET_CHECK(x.size(2) > 0 && x.size(3) > 0, kernel, ": empty input plane ", shape_str(x.shape()));
  const int64_t out_h = pool_output_size(x.size(2), window.kernel_h, window.stride_h, window.pad_h, window.ceil_mode);
  const int64_t out_w = pool_output_size(x.size(3), window.kernel_w, window.stride_w, window.pad_w, window.ceil_mode);
  const Shape out_shape{x.size(0), x.size(1), out_h, out_w};
  check_pool_operand(x, x, x.shape(), kernel, "x", backend);
  check_pool_operand(out, x, out_shape, kernel, "out", backend);
  check_pool_operand(indices, x, out_shape, kernel, "indices", backend);
  MASKDET_CHECK(out.dtype() == x.dtype() && indices.dtype() == DType::Int64, kernel,
                ": out must have x's dtype and indices must be int64");
}

// grad_out, indices: (N, C, OH, OW); grad_x: (N, C, H, W).
inline void check_max_pool2d_backward_args(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_x,
                                           Backend backend) {
  constexpr const char* kernel = "max_pool2d_backward";
  check_device(grad_out, grad_out.device(), kernel, "grad_out", backend);
  MASKDET_CHECK(grad_out.dim() == 4 && grad_x.dim() == 4, kernel, ": grad_out ", shape_str(grad_out.shape()),
                " and grad_x ", shape_str(grad_x.shape()), " must be (N, C, H, W)");
  MASKDET_CHECK(grad_out.size(0) == grad_x.size(0) && grad_out.size(1) == grad_x.size(1), kernel, ": grad_out ",
                shape_str(grad_out.shape()), " and grad_x ", shape_str(grad_x.shape()), " differ in N or C");
  check_pool_operand(grad_out, grad_out, grad_out.shape(), kernel, "grad_out", backend);
  check_pool_operand(indices, grad_out, grad_out.shape(), kernel, "indices", backend);
  check_pool_operand(grad_x, grad_out, grad_x.shape(), kernel, "grad_x", backend);
  MASKDET_CHECK(grad_x.dtype() == grad_out.dtype() && indices.dtype() == DType::Int64, kernel,
                ": grad_x must have grad_out's dtype and indices must be int64");
}

}  // namespace maskdet::kernels
