// The argument checks of the indexing kernels (tensor/kernels/index.h), for both backends
// (tensor/kernels/kernel_checks.h says how they share them). Each backend then scans the index
// values its own way (on the host, or on the GPU) and reports the first bad one with
// fail_index_out_of_range, so both name it alike.
#pragma once
#include <algorithm>
#include <cstdint>

#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// index_select's contiguous operands seen as (outer, n, inner) and (outer, K, inner).
struct IndexSelectLayout {
  int64_t outer = 1, size = 0, inner = 1;  // size: n, the bound of the index values
};

// index_select's operands: `full` has the indexed dim of length n, `picked` of length K (x and
// out forward, grad_x and grad_out backward).
inline IndexSelectLayout check_index_select_args(const Tensor& full, int64_t dim, const Tensor& index,
                                                 const Tensor& picked, const char* kernel, Backend backend) {
  check_device(full, full.device(), kernel, "the (..., n, ...) operand", backend);
  check_device(index, full.device(), kernel, "index", backend);
  check_device(picked, full.device(), kernel, "the (..., K, ...) operand", backend);
  MASKDET_CHECK(dim >= 0 && dim < full.dim(), kernel, ": dim ", dim, " out of range for shape ",
                shape_str(full.shape()));
  MASKDET_CHECK(index.dim() == 1, kernel, ": index must be 1-D, got shape ", shape_str(index.shape()));
  Shape expect = full.shape();
  expect[dim] = index.size(0);
  check_same_shape(picked, expect, kernel, "the (..., K, ...) operand");
  MASKDET_CHECK(full.is_contiguous() && picked.is_contiguous(), kernel, ": operands must be contiguous");
  MASKDET_CHECK(full.dtype() == picked.dtype(), kernel, ": dtypes differ: ", dtype_name(full.dtype()), " and ",
                dtype_name(picked.dtype()));
  IndexSelectLayout l;
  for (int64_t d = 0; d < dim; ++d) l.outer *= full.size(d);
  l.size = full.size(dim);
  for (int64_t d = dim + 1; d < full.dim(); ++d) l.inner *= full.size(d);
  return l;
}

// gather's operands: index has full's rank and fits inside it except along dim (x and out
// forward, grad_x and grad_out backward). Returns the bound of the index values.
inline int64_t check_gather_args(const Tensor& full, int64_t dim, const Tensor& index, const Tensor& picked,
                                 const char* kernel, Backend backend) {
  check_device(full, full.device(), kernel, "the indexed operand", backend);
  check_device(index, full.device(), kernel, "index", backend);
  check_device(picked, full.device(), kernel, "the index-shaped operand", backend);
  MASKDET_CHECK(index.dim() == full.dim(), kernel, ": index has shape ", shape_str(index.shape()),
                ", expected the rank of ", shape_str(full.shape()));
  MASKDET_CHECK(dim >= 0 && dim < std::max<int64_t>(full.dim(), 1), kernel, ": dim ", dim,
                " out of range for shape ", shape_str(full.shape()));
  for (int64_t d = 0; d < full.dim(); ++d)
    MASKDET_CHECK(d == dim || index.size(d) <= full.size(d), kernel, ": index shape ", shape_str(index.shape()),
                  " exceeds ", shape_str(full.shape()), " in dim ", d);
  check_same_shape(picked, index.shape(), kernel, "the index-shaped operand");
  MASKDET_CHECK(full.dtype() == picked.dtype(), kernel, ": dtypes differ: ", dtype_name(full.dtype()), " and ",
                dtype_name(picked.dtype()));
  return full.dim() == 0 ? 1 : full.size(dim);
}

// The first check of a scan of the index values.
inline void check_index_dtype(const Tensor& index, const char* kernel) {
  MASKDET_CHECK(index.dtype() == DType::Int64, kernel, ": index must be int64, got ", dtype_name(index.dtype()));
}

// The coordinates of the element at row-major `position` of `shape`.
inline Shape unravel_position(int64_t position, const Shape& shape) {
  Shape where(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    where[d] = position % shape[d];
    position /= shape[d];
  }
  return where;
}

// The error for index value `value` at coordinates `where` of the index tensor, outside
// [0, size) of dim `dim` of a tensor of `indexed_shape`.
[[noreturn]] inline void fail_index_out_of_range(int64_t value, const Shape& where, int64_t size, int64_t dim,
                                                 const Shape& indexed_shape, const char* kernel) {
  MASKDET_FAIL(kernel, ": index ", value, " at position ", shape_str(where), " is out of range for dim ", dim,
               " of size ", size, " (indexed tensor has shape ", shape_str(indexed_shape), ")");
}

}  // namespace maskdet::kernels
