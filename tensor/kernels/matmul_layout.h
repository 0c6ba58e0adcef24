// gemm's argument checks and operand layouts (tensor/kernels/matmul.h), written once for both
// backends (tensor/cpu/matmul.cpp, cuda/kernels/matmul.cu): the checks and the plan come out of
// one pass over the operands, so they share this file rather than a matmul_checks.h
// (tensor/kernels/kernel_checks.h says how the backends share checks). Host code only.
//
// A BLAS takes row-major matrices with a row stride (ld); a column-major matrix (unit stride
// down its columns, e.g. a transposed view) is passed as the transpose of a row-major one,
// flipping the caller's transpose flag instead of copying.
#pragma once
#include <algorithm>

#include "tensor/kernels/kernel_checks.h"
#include "tensor/tensor.h"

namespace maskdet::kernels::gemm_layout {

struct BlasMatrix {
  bool transposed = false;    // the flag to hand the row-major BLAS
  int64_t ld = 1;             // row stride as the BLAS sees the matrix
  int64_t batch_stride = 0;   // 0 for a 2-D operand shared by every batch
};

inline BlasMatrix blas_matrix(const Tensor& t, bool transpose, const char* what) {
  const int64_t r = t.size(-2), c = t.size(-1);
  const int64_t sr = t.strides()[t.dim() - 2], sc = t.strides()[t.dim() - 1];
  BlasMatrix m;
  m.batch_stride = t.dim() == 3 ? t.strides()[0] : 0;
  // A dim of size <= 1 never steps, so its stride does not constrain the layout.
  if ((sc == 1 || c <= 1) && (r <= 1 || sr >= c)) {
    m.transposed = transpose;
    m.ld = r <= 1 ? std::max<int64_t>(c, 1) : sr;
  } else if ((sr == 1 || r <= 1) && (c <= 1 || sc >= r)) {
    m.transposed = !transpose;
    m.ld = c <= 1 ? std::max<int64_t>(r, 1) : sc;
  } else {
    MASKDET_FAIL("gemm: ", what, " of shape ", shape_str(t.shape()), " has strides ", shape_str(t.strides()),
                 ", which BLAS cannot read (needs unit stride in one of the last two dims); make it contiguous");
  }
  return m;
}

// Everything a backend needs to run one gemm call.
struct GemmPlan {
  int64_t m = 0, n = 0, k = 0, batch = 1;
  bool batched = false;  // a or b is 3-D, so out is (batch, m, n)
  bool empty = false;    // out has no elements: nothing to do (the layouts below are unset)
  BlasMatrix a, b;
  int64_t ldo = 0, out_batch_stride = 0;
  // A dense stack of row-major matrices times one shared matrix: a single GEMM of batch * m rows.
  bool fold_batch = false;
};

// Checks gemm's arguments, throwing maskdet::Error naming the offending shapes, and plans the call.
inline GemmPlan plan_gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, const Tensor& out,
                          Backend backend) {
  check_device(out.device(), "gemm", {{&out, "out"}, {&a, "a"}, {&b, "b"}}, backend);
  MASKDET_CHECK(a.dim() == 2 || a.dim() == 3, "gemm: a must be 2-D or 3-D, got ", shape_str(a.shape()));
  MASKDET_CHECK(b.dim() == 2 || b.dim() == 3, "gemm: b must be 2-D or 3-D, got ", shape_str(b.shape()));
  MASKDET_CHECK(a.dtype() == b.dtype() && a.dtype() == out.dtype(), "gemm: dtypes differ: a ",
                dtype_name(a.dtype()), ", b ", dtype_name(b.dtype()), ", out ", dtype_name(out.dtype()));
  GemmPlan p;
  p.m = transpose_a ? a.size(-1) : a.size(-2);
  p.k = transpose_a ? a.size(-2) : a.size(-1);
  const int64_t kb = transpose_b ? b.size(-1) : b.size(-2);
  p.n = transpose_b ? b.size(-2) : b.size(-1);
  p.batched = a.dim() == 3 || b.dim() == 3;
  p.batch = a.dim() == 3 ? a.size(0) : (b.dim() == 3 ? b.size(0) : 1);
  MASKDET_CHECK(p.k == kb && (a.dim() == 2 || b.dim() == 2 || a.size(0) == b.size(0)), "gemm: cannot multiply ",
                shape_str(a.shape()), (transpose_a ? "^T" : ""), " by ", shape_str(b.shape()),
                (transpose_b ? "^T" : ""));
  const Shape expected = p.batched ? Shape{p.batch, p.m, p.n} : Shape{p.m, p.n};
  MASKDET_CHECK(out.shape() == expected, "gemm: out has shape ", shape_str(out.shape()), ", expected ",
                shape_str(expected));
  p.empty = out.numel() == 0;
  if (p.empty) return p;
  MASKDET_CHECK((p.n <= 1 || out.strides()[out.dim() - 1] == 1) && (p.m <= 1 || out.strides()[out.dim() - 2] >= p.n),
                "gemm: out of shape ", shape_str(out.shape()), " has strides ", shape_str(out.strides()),
                "; it needs row-major rows");
  p.a = blas_matrix(a, transpose_a, "a");
  p.b = blas_matrix(b, transpose_b, "b");
  p.ldo = p.m <= 1 ? p.n : out.strides()[out.dim() - 2];
  p.out_batch_stride = p.batched ? out.strides()[0] : 0;
  p.fold_batch = p.batched && b.dim() == 2 && !p.a.transposed &&
                 (p.batch == 1 || (p.a.batch_stride == p.m * p.a.ld && p.out_batch_stride == p.m * p.ldo));
  return p;
}

// BLAS wants a leading dimension >= the stored row length even for a single row, whose stride
// is then meaningless (a (1, k) view may carry any row stride).
inline int64_t fix_ld(int64_t ld, int64_t rows, int64_t cols) { return rows <= 1 ? std::max(cols, ld) : ld; }

}  // namespace maskdet::kernels::gemm_layout
