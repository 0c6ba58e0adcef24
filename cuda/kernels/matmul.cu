// CUDA GEMM (tensor/kernels/matmul.h) through cuBLAS (cublasGemmEx and
// cublasGemmStridedBatchedEx), with the CPU's argument checks and operand layouts
// (tensor/kernels/matmul_layout.h).
//
// cuBLAS is column-major. A row-major matrix X (r, c) with row stride ld is, in the same memory,
// the column-major matrix X^T (c, r) with leading dimension ld; so the row-major product
// C = op(A) op(B) is computed as the column-major C^T = op(B)^T op(A)^T: swap the operands and
// the sizes m and n, keep the transpose flags (the usual way to drive cuBLAS from row-major
// code; see the cuBLAS documentation on data layout).
//
// float32 uses TF32 tensor cores only when allow_tf32() (cuda/context.h): the compute type and
// the handle's math mode are set at every call, so a mode left by another caller never leaks in.
// float64 always runs in full precision. Results differ from OpenBLAS in the last bits (another
// summation order); with TF32 on, float32 products carry ~1e-3 relative error.
#include <climits>

#include "cuda/kernels/strided.cuh"
#include "tensor/kernels/matmul.h"
#include "tensor/kernels/matmul_layout.h"

namespace maskdet::cuda {
namespace {
using kernels::gemm_layout::fix_ld;

int to_int(int64_t v, const char* what) {
  MASKDET_CHECK(v <= INT_MAX, "gemm: ", what, " = ", v, " exceeds cuBLAS's int range");
  return static_cast<int>(v);
}

// out = beta * out, elementwise over any strides (the K = 0 product); beta = 0 writes zeros
// without reading, so NaNs in out do not survive, as with BLAS.
template <class T>
struct ScaleOp {
  T* out;
  T beta;
  __device__ void operator()(const int64_t (&off)[1]) const { out[off[0]] = beta == T(0) ? T(0) : out[off[0]] * beta; }
};

// One row-major GEMM, or `batch` of them `stride_*` elements apart (batch > 1 only when every
// stride is non-zero). c (m, n) = alpha * op(a) (m, k) @ op(b) (k, n) + beta * c; m, n, k > 0;
// lda, ldb, ldc are the row strides of the matrices as stored.
template <class T>
void row_major_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                    int64_t stride_a, const T* b, int64_t ldb, int64_t stride_b, T beta, T* c, int64_t ldc,
                    int64_t stride_c, int64_t batch) {
  constexpr bool is_float = std::is_same_v<T, float>;
  const cudaDataType_t type = is_float ? CUDA_R_32F : CUDA_R_64F;
  const bool tf32 = is_float && allow_tf32();
  const cublasComputeType_t compute =
      is_float ? (tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F) : CUBLAS_COMPUTE_64F;
  const cublasHandle_t handle = cublas_handle();
  CUBLAS_CHECK(cublasSetMathMode(handle, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  const cublasOperation_t op_a = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int im = to_int(m, "m"), in = to_int(n, "n"), ik = to_int(k, "k");
  const int ilda = to_int(fix_ld(lda, ta ? k : m, ta ? m : k), "lda");
  const int ildb = to_int(fix_ld(ldb, tb ? n : k, tb ? k : n), "ldb");
  const int ildc = to_int(fix_ld(ldc, m, n), "ldc");
  // Operands swapped for the column-major view (file comment): cuBLAS's A is our b.
  if (batch == 1) {
    CUBLAS_CHECK(cublasGemmEx(handle, op_b, op_a, in, im, ik, &alpha, b, type, ildb, a, type, ilda, &beta, c, type,
                              ildc, compute, CUBLAS_GEMM_DEFAULT));
  } else {
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(handle, op_b, op_a, in, im, ik, &alpha, b, type, ildb, stride_b, a, type,
                                            ilda, stride_a, &beta, c, type, ildc, stride_c, to_int(batch, "batch"),
                                            compute, CUBLAS_GEMM_DEFAULT));
  }
}

}  // namespace

// a: (M, K) / (B, M, K), stored (K, M) / (B, K, M) when transpose_a; b: (K, N) / (B, K, N),
// stored (N, K) / (B, N, K) when transpose_b; out: (M, N) / (B, M, N), unit stride along its
// last dim. beta = 0 overwrites out, beta = 1 adds to it.
void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, const Tensor& out, double alpha,
          double beta) {
  const kernels::gemm_layout::GemmPlan p =
      kernels::gemm_layout::plan_gemm(a, transpose_a, b, transpose_b, out, Backend::Cuda);
  if (p.empty) return;
  DeviceGuard guard(out.device().index);
  dispatch_floating(out.dtype(), "gemm", [&](auto zero) {
    using T = decltype(zero);
    T* op = out.data_ptr<T>();
    if (p.k == 0) {
      if (beta != 1.0) launch_strided<1>(out.shape(), {&out.strides()}, ScaleOp<T>{op, T(beta)}, "gemm");
      return;
    }
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    if (p.fold_batch) {
      row_major_gemm<T>(false, p.b.transposed, p.batch * p.m, p.n, p.k, T(alpha), ap, p.a.ld, 0, bp, p.b.ld, 0,
                        T(beta), op, p.ldo, 0, 1);
      return;
    }
    // Strided-batched only when every operand really steps between batches; a shared or
    // expanded (stride-0) operand, or a stride-0 output, takes one call per batch, in order.
    if (p.batch > 1 && p.a.batch_stride != 0 && p.b.batch_stride != 0 && p.out_batch_stride != 0) {
      row_major_gemm<T>(p.a.transposed, p.b.transposed, p.m, p.n, p.k, T(alpha), ap, p.a.ld, p.a.batch_stride, bp,
                        p.b.ld, p.b.batch_stride, T(beta), op, p.ldo, p.out_batch_stride, p.batch);
      return;
    }
    for (int64_t i = 0; i < p.batch; ++i)
      row_major_gemm<T>(p.a.transposed, p.b.transposed, p.m, p.n, p.k, T(alpha), ap + i * p.a.batch_stride, p.a.ld, 0,
                        bp + i * p.b.batch_stride, p.b.ld, 0, T(beta), op + i * p.out_batch_stride, p.ldo, 0, 1);
  });
}

}  // namespace maskdet::cuda
