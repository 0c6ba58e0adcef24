// CPU GEMM kernel: strided tensor views handed to CBLAS (OpenBLAS), looping over the batch.
#include "tensor/cpu/blas.h"
#include "tensor/kernels/matmul.h"

namespace maskdet::cpu {

namespace {

// How the matrix in the last two dims of a tensor is laid out for BLAS: BLAS takes row-major
// matrices with a row stride (ld), so a column-major matrix is passed as the transpose of a
// row-major one, flipping the caller's transpose flag instead of copying.
struct BlasMatrix {
  bool transposed = false;
  int64_t ld = 1;
  int64_t batch_stride = 0;  // 0 for a 2-D operand shared by every batch
};

BlasMatrix blas_matrix(const Tensor& t, bool transpose, const char* what) {
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

}  // namespace

void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, const Tensor& out, double alpha,
          double beta) {
  MASKDET_CHECK(a.dim() == 2 || a.dim() == 3, "gemm: a must be 2-D or 3-D, got ", shape_str(a.shape()));
  MASKDET_CHECK(b.dim() == 2 || b.dim() == 3, "gemm: b must be 2-D or 3-D, got ", shape_str(b.shape()));
  MASKDET_CHECK(a.dtype() == b.dtype() && a.dtype() == out.dtype(), "gemm: dtypes differ: a ",
                dtype_name(a.dtype()), ", b ", dtype_name(b.dtype()), ", out ", dtype_name(out.dtype()));
  const int64_t m = transpose_a ? a.size(-1) : a.size(-2);
  const int64_t k = transpose_a ? a.size(-2) : a.size(-1);
  const int64_t kb = transpose_b ? b.size(-1) : b.size(-2);
  const int64_t n = transpose_b ? b.size(-2) : b.size(-1);
  const bool batched = a.dim() == 3 || b.dim() == 3;
  const int64_t batch = a.dim() == 3 ? a.size(0) : (b.dim() == 3 ? b.size(0) : 1);
  MASKDET_CHECK(k == kb && (a.dim() == 2 || b.dim() == 2 || a.size(0) == b.size(0)), "gemm: cannot multiply ",
                shape_str(a.shape()), (transpose_a ? "^T" : ""), " by ", shape_str(b.shape()),
                (transpose_b ? "^T" : ""));
  const Shape expected = batched ? Shape{batch, m, n} : Shape{m, n};
  MASKDET_CHECK(out.shape() == expected, "gemm: out has shape ", shape_str(out.shape()), ", expected ",
                shape_str(expected));
  if (out.numel() == 0) return;
  MASKDET_CHECK((n <= 1 || out.strides()[out.dim() - 1] == 1) && (m <= 1 || out.strides()[out.dim() - 2] >= n),
                "gemm: out of shape ", shape_str(out.shape()), " has strides ", shape_str(out.strides()),
                "; it needs row-major rows");

  const BlasMatrix la = blas_matrix(a, transpose_a, "a");
  const BlasMatrix lb = blas_matrix(b, transpose_b, "b");
  const int64_t ldo = m <= 1 ? n : out.strides()[out.dim() - 2];
  const int64_t out_batch_stride = batched ? out.strides()[0] : 0;
  dispatch_floating(out.dtype(), "gemm", [&](auto zero) {
    using T = decltype(zero);
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    T* op = out.data_ptr<T>();
    // A stack of row-major matrices times one shared matrix is a single taller GEMM when the
    // stack is dense: one big call keeps BLAS's threads busy better than B small ones.
    if (batched && b.dim() == 2 && !la.transposed && (batch == 1 || (la.batch_stride == m * la.ld &&
                                                                     out_batch_stride == m * ldo))) {
      blas_gemm<T>(false, lb.transposed, batch * m, n, k, T(alpha), ap, la.ld, bp, lb.ld, T(beta), op, ldo);
      return;
    }
    for (int64_t i = 0; i < batch; ++i) {
      blas_gemm<T>(la.transposed, lb.transposed, m, n, k, T(alpha), ap + i * la.batch_stride, la.ld,
                   bp + i * lb.batch_stride, lb.ld, T(beta), op + i * out_batch_stride, ldo);
    }
  });
}

}  // namespace maskdet::cpu
