// Matrix multiplication: one GEMM kernel, batched over a leading dim.
#pragma once
#include "tensor/kernels/dispatch.h"

namespace maskdet {

// out = alpha * op(a) @ op(b) + beta * out, where op(m) is m or, when its flag is set, m with
// its last two dims swapped.
//   a:   (M, K) or (B, M, K); stored (K, M) / (B, K, M) when transpose_a
//   b:   (K, N) or (B, K, N); stored (N, K) / (B, N, K) when transpose_b
//   out: (M, N), or (B, M, N) when a or b is 3-D; a 2-D operand is shared by every batch.
// a and b need unit stride along one of their last two dims (row-major, or column-major such
// as a transposed view); out needs unit stride along its last dim. One float dtype for all three.
// beta = 0 OVERWRITES out without reading it; beta = 1 ADDS TO out. K = 0 gives beta * out.
MASKDET_KERNEL(gemm,
               (const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, const Tensor& out,
                double alpha, double beta),
               out.device(), a, transpose_a, b, transpose_b, out, alpha, beta)

}  // namespace maskdet
