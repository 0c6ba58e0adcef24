// Reductions over chosen dimensions.
#pragma once
#include <vector>

#include "tensor/kernels/dispatch.h"

namespace maskdet {

// out = sum of x over `dims` (sorted, unique, in range). out has x's rank with the reduced
// dims of size 1 (keepdim layout), contiguous. Float inputs accumulate in double. Overwrites out.
MASKDET_KERNEL(sum_forward, (const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out),
               x.device(), x, dims, out)

// values, indices = max of x over `dim` (keepdim layout, contiguous; indices int64, the
// first maximum on ties). Overwrites both.
MASKDET_KERNEL(max_forward, (const Tensor& x, int64_t dim, const Tensor& values, const Tensor& indices),
               x.device(), x, dim, values, indices)

}  // namespace maskdet
