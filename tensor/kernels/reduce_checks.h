// The argument checks of the reduction kernels (tensor/kernels/reduce.h), for both backends
// (tensor/kernels/kernel_checks.h says how they share them).
#pragma once
#include <vector>

#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// dims in range; out of x's keepdim shape and contiguous.
inline void check_sum_forward_args(const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
                                   Backend backend) {
  check_device(x.device(), "sum", {{&x, "x"}, {&out, "out"}}, backend);
  Shape expect = x.shape();
  for (int64_t d : dims) {
    MASKDET_CHECK(d >= 0 && d < x.dim(), "sum: dim ", d, " out of range for shape ", shape_str(x.shape()));
    expect[d] = 1;
  }
  check_same_shape(out, expect, "sum", "out");
  MASKDET_CHECK(out.is_contiguous(), "sum: out must be contiguous");
}

// dim in range and not empty; both outputs of x's keepdim shape and contiguous, indices int64.
inline void check_max_forward_args(const Tensor& x, int64_t dim, const Tensor& values, const Tensor& indices,
                                   Backend backend) {
  check_device(x.device(), "max", {{&x, "x"}, {&values, "values"}, {&indices, "indices"}}, backend);
  MASKDET_CHECK(dim >= 0 && dim < x.dim(), "max: dim ", dim, " out of range for shape ", shape_str(x.shape()));
  MASKDET_CHECK(x.size(dim) > 0, "max: cannot reduce over an empty dim ", dim, " of shape ", shape_str(x.shape()));
  Shape expect = x.shape();
  expect[dim] = 1;
  check_same_shape(values, expect, "max", "values");
  check_same_shape(indices, expect, "max", "indices");
  MASKDET_CHECK(values.is_contiguous() && indices.is_contiguous(), "max: outputs must be contiguous");
  MASKDET_CHECK(indices.dtype() == DType::Int64, "max: indices must be int64");
}

}  // namespace maskdet::kernels
