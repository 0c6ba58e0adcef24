// How CPU kernels call BLAS (OpenBLAS through CBLAS) on raw row-major pointers: a typed GEMM
// that copes with empty sizes, a scope that keeps OpenBLAS on the calling thread, and a GEMM
// split over the OpenMP threads. Shared by the matmul and convolution kernels; only CPU kernel
// sources include it (cblas.h is a private include of maskdet_core).
#pragma once
#include <cblas.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "tensor/cpu/parallel.h"

namespace maskdet::cpu {

// c (m, n) = alpha * op(a) @ op(b) + beta * c, all row-major; op(a) is (m, k), op(b) is (k, n).
// lda, ldb, ldc are the row strides of the matrices as stored (a is (k, m) when transposed).
// beta = 0 overwrites c without reading it (NaNs in c do not leak through); beta = 1 adds to it.
// Empty products are handled here: BLAS is never called with a zero size, and k = 0 leaves
// beta * c (zeros for beta = 0).
template <class T>
void blas_gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
               int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "blas_gemm: float or double");
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i) {
      T* row = c + i * ldc;
      if (beta == T(0)) std::fill(row, row + n, T(0));
      else if (beta != T(1)) std::for_each(row, row + n, [beta](T& v) { v *= beta; });
    }
    return;
  }
  // BLAS insists on a leading dimension >= the stored row length even when there is a single
  // row, whose stride is then meaningless (a (1, k) view may carry any row stride).
  const auto fix_ld = [](int64_t ld, int64_t rows, int64_t cols) { return rows <= 1 ? std::max(cols, ld) : ld; };
  lda = fix_ld(lda, transpose_a ? k : m, transpose_a ? m : k);
  ldb = fix_ld(ldb, transpose_b ? n : k, transpose_b ? k : n);
  ldc = fix_ld(ldc, m, n);
  const auto ta = transpose_a ? CblasTrans : CblasNoTrans;
  const auto tb = transpose_b ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
                static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
                static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  }
}

// For its scope, OpenBLAS runs each call on the calling thread alone. Kernels that spread
// independent GEMMs over the OpenMP threads use it: OpenBLAS's own pool would otherwise
// oversubscribe the cores, and alternating between the two pools costs more than it gains,
// because each pool's idle threads spin for a while and steal cores from the other. (The
// setting is process-wide: a BLAS call on another thread meanwhile also runs single-threaded.)
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : previous_(openblas_get_num_threads()) {
    if (previous_ != 1) openblas_set_num_threads(1);
  }
  ~SingleThreadedBlas() {
    if (previous_ != 1) openblas_set_num_threads(previous_);
  }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int previous_;
};

// Below this many multiply-adds a GEMM runs on one thread: waking the others costs more.
constexpr int64_t kMinParallelGemmMacs = int64_t{1} << 22;

// blas_gemm with the columns of c split into one block per OpenMP thread, each block a
// single-threaded BLAS call, for kernels whose other loops run on the OpenMP pool too.
template <class T>
void parallel_gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                   int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  // Blocks of whole cache lines, and not so thin that packing a dominates.
  constexpr int64_t kAlign = 16, kMinBlock = 64;
  const int64_t threads = m * n * k >= kMinParallelGemmMacs ? max_threads() : 1;
  const int64_t per_thread = (n + threads - 1) / threads;
  const int64_t block = std::max(kMinBlock, (per_thread + kAlign - 1) / kAlign * kAlign);
  SingleThreadedBlas single;
  parallel_for((n + block - 1) / block, 1, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      const int64_t j = i * block, width = std::min(block, n - j);
      // Column j of op(b) starts at row j of b when b is stored transposed.
      blas_gemm<T>(transpose_a, transpose_b, m, width, k, alpha, a, lda, transpose_b ? b + j * ldb : b + j, ldb, beta,
                   c + j, ldc);
    }
  });
}

}  // namespace maskdet::cpu
