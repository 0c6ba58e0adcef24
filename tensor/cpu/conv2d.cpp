// CPU convolution lowered to GEMM through im2col (tensor/cpu/im2col.h) and OpenBLAS, per image
// and group:
//   forward          out[n, g]  (O/G, OH*OW)    = W[g] (O/G, C/G*KH*KW) @ col(x[n])[g]
//   backward data    col[g]     (C/G*KH*KW, OH*OW) = W[g]^T @ grad_out[n, g], then col2im
//   backward filter  grad_W[g] (O/G, C/G*KH*KW) += grad_out[n, g] @ col(x[n])[g]^T
// A 1x1, stride-1, unpadded convolution is already a GEMM on the image itself (col = x[n]).
// 3x3 stride-1 convolutions with enough channels take the Winograd path instead
// (tensor/cpu/conv2d_winograd.h), which needs 2.25x fewer multiplications, and depthwise ones
// (one filter per channel) a direct loop (tensor/cpu/conv2d_depthwise.h) with no im2col at all.
//
// Everything runs on the OpenMP threads, BLAS included (single-threaded calls on blocks of
// the work): im2col and the GEMMs alternate, and handing the GEMMs to OpenBLAS's own pool
// left each pool's idle threads spinning on the cores the other one needed.
//
// Per-image GEMMs rather than one over the batch: a (C*KH*KW, N*OH*OW) column matrix gives
// BLAS no faster rate (single-threaded OpenBLAS ran 256 x 2304 x 2048, 4096 and 8192 alike, at
// 109-113 GFLOPS) and would need the output transposed from (O, N*OH*OW) to (N, O, OH*OW).
#include "tensor/cpu/blas.h"
#include "tensor/cpu/conv2d_depthwise.h"
#include "tensor/cpu/conv2d_winograd.h"
#include "tensor/cpu/conv_geometry.h"
#include "tensor/cpu/im2col.h"
#include "tensor/cpu/workspace.h"
#include "tensor/kernels/conv2d.h"

namespace maskdet::cpu {

namespace {

using kernels::Backend;

// Runs the GEMM of each group g, c[g] = op(a[g]) @ op(b[g]) + beta c[g], where operand x[g]
// starts x_step elements after x[g - 1]: one GEMM split across the threads when there is a
// single group, else whole groups spread over the threads.
template <class T>
void grouped_gemm(int64_t groups, bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, const T* a,
                  int64_t lda, int64_t a_step, const T* b, int64_t ldb, int64_t b_step, T beta, T* c, int64_t ldc,
                  int64_t c_step) {
  if (groups == 1) {
    parallel_gemm<T>(transpose_a, transpose_b, m, n, k, T(1), a, lda, b, ldb, beta, c, ldc);
    return;
  }
  SingleThreadedBlas single;
  const int64_t grain = std::max<int64_t>(1, kMinParallelGemmMacs / std::max<int64_t>(m * n * k, 1));
  parallel_for(groups, grain, [&](int64_t first, int64_t last) {
    for (int64_t g = first; g < last; ++g)
      blas_gemm<T>(transpose_a, transpose_b, m, n, k, T(1), a + g * a_step, lda, b + g * b_step, ldb, beta,
                   c + g * c_step, ldc);
  });
}

// Room for one image's column matrix (uninitialised: im2col writes all of it); none is needed
// for a pointwise convolution.
template <class T>
T* column_buffer(const ConvGeometry& s) {
  return s.pointwise() ? nullptr : workspace<T>(0, s.col_rows() * s.out_area());
}

// The column matrix of one image: the image itself when pointwise, else im2col into col.
template <class T>
const T* image_columns(const T* image, const ConvGeometry& s, T* col) {
  if (s.pointwise()) return image;
  im2col(image, s, col);
  return col;
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out,
                    const Conv2dParams& params) {
  const ConvGeometry s{kernels::check_conv2d_forward_args(x, weight, bias, out, params, Backend::Cpu)};
  const int64_t in_size = s.in_image_size(), out_size = s.out_image_size(), out_area = s.out_area();
  dispatch_floating(x.dtype(), "conv2d_forward", [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    const T* wp = weight.data_ptr<T>();
    T* op = out.data_ptr<T>();
    if (depthwise_applies(s)) {
      depthwise_forward(xp, wp, bias.defined() ? bias.data_ptr<T>() : nullptr, op, s);
      return;
    }
    if (winograd_applies(s)) {
      winograd_forward(xp, wp, bias.defined() ? bias.data_ptr<T>() : nullptr, op, s);
      return;
    }
    if (bias.defined()) {
      // Rows start at the bias and the GEMM adds onto them (beta = 1).
      const T* bp = bias.data_ptr<T>();
      parallel_for(s.batch * s.out_channels, rows_grain(out_area), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r)
          std::fill(op + r * out_area, op + (r + 1) * out_area, bp[r % s.out_channels]);
      });
    }
    const T beta = bias.defined() ? T(1) : T(0);
    auto col = column_buffer<T>(s);
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* columns = image_columns(xp + n * in_size, s, col);
      grouped_gemm<T>(s.groups(), false, false, s.group_out(), out_area, s.group_k(), wp, s.group_k(),
                      s.group_out() * s.group_k(), columns, out_area, s.group_k() * out_area, beta, op + n * out_size,
                      out_area, s.group_out() * out_area);
    }
  });
}

void conv2d_backward_data(const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x,
                          const Conv2dParams& params) {
  const ConvGeometry s{kernels::check_conv2d_backward_data_args(grad_out, weight, grad_x, params, Backend::Cpu)};
  const int64_t in_size = s.in_image_size(), out_size = s.out_image_size(), out_area = s.out_area();
  dispatch_floating(grad_x.dtype(), "conv2d_backward_data", [&](auto zero) {
    using T = decltype(zero);
    const T* gp = grad_out.data_ptr<T>();
    const T* wp = weight.data_ptr<T>();
    T* gxp = grad_x.data_ptr<T>();
    if (depthwise_applies(s)) {
      depthwise_backward_data(gp, wp, gxp, s);
      return;
    }
    if (winograd_applies(s)) {
      winograd_backward_data(gp, wp, gxp, s);
      return;
    }
    auto col = column_buffer<T>(s);
    for (int64_t n = 0; n < s.batch; ++n) {
      // Pointwise: the column matrix is grad_x itself, so the GEMM writes the answer directly.
      T* columns = s.pointwise() ? gxp + n * in_size : col;
      grouped_gemm<T>(s.groups(), true, false, s.group_k(), out_area, s.group_out(), wp, s.group_k(),
                      s.group_out() * s.group_k(), gp + n * out_size, out_area, s.group_out() * out_area, T(0),
                      columns, out_area, s.group_k() * out_area);
      if (!s.pointwise()) col2im(columns, s, gxp + n * in_size);
    }
  });
}

void conv2d_backward_filter(const Tensor& grad_out, const Tensor& x, const Tensor& grad_weight,
                            const Conv2dParams& params) {
  const ConvGeometry s{kernels::check_conv2d_backward_filter_args(grad_out, x, grad_weight, params, Backend::Cpu)};
  const int64_t in_size = s.in_image_size(), out_size = s.out_image_size(), out_area = s.out_area();
  dispatch_floating(x.dtype(), "conv2d_backward_filter", [&](auto zero) {
    using T = decltype(zero);
    const T* gp = grad_out.data_ptr<T>();
    const T* xp = x.data_ptr<T>();
    T* gwp = grad_weight.data_ptr<T>();
    if (depthwise_applies(s)) {
      depthwise_backward_filter(gp, xp, gwp, s);
      return;
    }
    if (winograd_applies(s)) {
      winograd_backward_filter(gp, xp, gwp, s);
      return;
    }
    if (s.batch == 0) {
      std::fill(gwp, gwp + grad_weight.numel(), T(0));
      return;
    }
    auto col = column_buffer<T>(s);
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* columns = image_columns(xp + n * in_size, s, col);
      // The first image overwrites grad_weight, the others add to it.
      grouped_gemm<T>(s.groups(), false, true, s.group_out(), s.group_k(), out_area, gp + n * out_size, out_area,
                      s.group_out() * out_area, columns, out_area, s.group_k() * out_area, n == 0 ? T(0) : T(1), gwp,
                      s.group_k(), s.group_out() * s.group_k());
    }
  });
}

}  // namespace maskdet::cpu
