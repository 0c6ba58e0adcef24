// CPU GEMM kernel: strided tensor views handed to CBLAS (OpenBLAS), looping over the batch.
#include "tensor/cpu/blas.h"
#include "tensor/kernels/matmul.h"
#include "tensor/kernels/matmul_layout.h"

namespace maskdet::cpu {

void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, const Tensor& out, double alpha,
          double beta) {
  const kernels::gemm_layout::GemmPlan p =
      kernels::gemm_layout::plan_gemm(a, transpose_a, b, transpose_b, out, kernels::Backend::Cpu);
  if (p.empty) return;
  dispatch_floating(out.dtype(), "gemm", [&](auto zero) {
    using T = decltype(zero);
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    T* op = out.data_ptr<T>();
    // A stack of row-major matrices times one shared matrix is a single taller GEMM when the
    // stack is dense: one big call keeps BLAS's threads busy better than B small ones.
    if (p.fold_batch) {
      blas_gemm<T>(false, p.b.transposed, p.batch * p.m, p.n, p.k, T(alpha), ap, p.a.ld, bp, p.b.ld, T(beta), op, p.ldo);
      return;
    }
    for (int64_t i = 0; i < p.batch; ++i) {
      blas_gemm<T>(p.a.transposed, p.b.transposed, p.m, p.n, p.k, T(alpha), ap + i * p.a.batch_stride, p.a.ld,
                   bp + i * p.b.batch_stride, p.b.ld, T(beta), op + i * p.out_batch_stride, p.ldo);
    }
  });
}

}  // namespace maskdet::cpu
