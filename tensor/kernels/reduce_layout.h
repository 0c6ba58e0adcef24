// The argument checks of the reduction kernels (tensor/kernels/reduce.h) and the split of a
// tensor's dims into kept and reduced ones, written once for both backends: cuda/kernels/
// reduce.cu uses them, and tensor/cpu/reduce.cpp can include them in place of its own copy.
// Host code only.
#pragma once
#include <vector>

#include "tensor/kernels/kernel_checks.h"
#include "tensor/tensor.h"

namespace maskdet::kernels::reduce_layout {

// x's dims in two groups, each in x's order: the kept ones (they index the contiguous output,
// row-major) and the reduced ones.
struct ReduceLayout {
  Shape kept_shape, kept_strides, red_shape, red_strides;
};

inline ReduceLayout split_dims(const Tensor& x, const std::vector<int64_t>& dims) {
  ReduceLayout l;
  std::vector<bool> reduced(x.dim(), false);
  for (int64_t d : dims) reduced[d] = true;
  for (int64_t d = 0; d < x.dim(); ++d) {
    (reduced[d] ? l.red_shape : l.kept_shape).push_back(x.size(d));
    (reduced[d] ? l.red_strides : l.kept_strides).push_back(x.strides()[d]);
  }
  return l;
}

// sum_forward's checks: dims in range, out of x's keepdim shape and contiguous.
inline void check_sum(const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out) {
  Shape expect = x.shape();
  for (int64_t d : dims) {
    MASKDET_CHECK(d >= 0 && d < x.dim(), "sum: dim ", d, " out of range for shape ", shape_str(x.shape()));
    expect[d] = 1;
  }
  check_same_shape(out, expect, "sum", "out");
  MASKDET_CHECK(out.is_contiguous(), "sum: out must be contiguous");
}

// max_forward's checks: dim in range and not empty, both outputs of x's keepdim shape and
// contiguous, indices int64.
inline void check_max(const Tensor& x, int64_t dim, const Tensor& values, const Tensor& indices) {
  MASKDET_CHECK(dim >= 0 && dim < x.dim(), "max: dim ", dim, " out of range for shape ", shape_str(x.shape()));
  MASKDET_CHECK(x.size(dim) > 0, "max: cannot reduce over an empty dim ", dim, " of shape ", shape_str(x.shape()));
  Shape expect = x.shape();
  expect[dim] = 1;
  check_same_shape(values, expect, "max", "values");
  check_same_shape(indices, expect, "max", "indices");
  MASKDET_CHECK(values.is_contiguous() && indices.is_contiguous(), "max: outputs must be contiguous");
  MASKDET_CHECK(indices.dtype() == DType::Int64, "max: indices must be int64");
}

}  // namespace maskdet::kernels::reduce_layout
