// Indexing kernels: index_select (whole slices picked along one dim) and gather (one element
// per index position, torch.gather), each with the scatter-add that is its backward.
// Indices are int64 and must lie in [0, size of the indexed dim); a bad one is an error that
// names its value and its position in the index tensor.
#pragma once
#include "tensor/kernels/dispatch.h"

namespace maskdet {

// out[..., k, ...] = x[..., index[k], ...], k running along `dim`. Any dtype. Overwrites out.
MASKDET_KERNEL(index_select_forward,
               (const Tensor& x,      // (..., n, ...), contiguous
                int64_t dim,          // in [0, x.dim())
                const Tensor& index,  // (K), int64, values in [0, n)
                const Tensor& out),   // (..., K, ...), contiguous, x's dtype
               x.device(), x, dim, index, out)

// grad_x[..., index[k], ...] += grad_out[..., k, ...] (index_add): a repeated index receives
// the sum of its slices. ADDS TO grad_x; the caller zeroes it.
MASKDET_KERNEL(index_select_backward,
               (const Tensor& grad_out,  // (..., K, ...), contiguous
                int64_t dim,
                const Tensor& index,     // (K), int64
                const Tensor& grad_x),   // (..., n, ...), contiguous, grad_out's dtype
               grad_out.device(), grad_out, dim, index, grad_x)

// out[p] = x[p with coordinate `dim` replaced by index[p]], for every position p of index
// (torch.gather). index has x's rank and index.size(d) <= x.size(d) for d != dim. Any dtype,
// any strides. Overwrites out.
MASKDET_KERNEL(gather_forward,
               (const Tensor& x,      // any shape of rank R
                int64_t dim,          // in [0, R)
                const Tensor& index,  // rank R, int64
                const Tensor& out),   // index's shape, x's dtype
               x.device(), x, dim, index, out)

// grad_x[p with coordinate `dim` replaced by index[p]] += grad_out[p] (scatter_add).
// ADDS TO grad_x; the caller zeroes it. Any strides.
MASKDET_KERNEL(gather_backward,
               (const Tensor& grad_out,  // index's shape
                int64_t dim,
                const Tensor& index,     // rank R, int64
                const Tensor& grad_x),   // x's shape, grad_out's dtype
               grad_out.device(), grad_out, dim, index, grad_x)

}  // namespace maskdet
