// The split of a tensor's dims into the kept and the reduced ones of the reduction kernels
// (tensor/kernels/reduce.h), written once for both backends (tensor/cpu/reduce.cpp,
// cuda/kernels/reduce.cu). Host code only.
#pragma once
#include <vector>

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

}  // namespace maskdet::kernels::reduce_layout
