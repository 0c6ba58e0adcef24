// CPU 2-D max pooling. Every (n, c) plane is an independent job, so both directions run in
// parallel over planes and the backward can accumulate without races.
#include <cmath>
#include <limits>

#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/pool.h"

namespace maskdet::cpu {

namespace {
void check_pool_operand(const Tensor& t, const Shape& shape, const char* kernel, const char* what) {
  check_same_shape(t, shape, kernel, what);
  MASKDET_CHECK(t.is_contiguous(), kernel, ": ", what, " must be contiguous");
}
}  // namespace

void max_pool2d_forward(const Tensor& x, const Tensor& out, const Tensor& indices, const Pool2dWindow& window) {
  constexpr const char* kernel = "max_pool2d_forward";
  MASKDET_CHECK(x.dim() == 4, kernel, ": x must be (N, C, H, W), got shape ", shape_str(x.shape()));
  MASKDET_CHECK(window.kernel_h > 0 && window.kernel_w > 0 && window.stride_h > 0 && window.stride_w > 0, kernel,
                ": kernel and stride must be positive");
  MASKDET_CHECK(x.size(2) > 0 && x.size(3) > 0, kernel, ": empty input plane ", shape_str(x.shape()));
  const int64_t planes = x.size(0) * x.size(1), height = x.size(2), width = x.size(3);
  const int64_t out_h = pool_output_size(height, window.kernel_h, window.stride_h, window.pad_h, window.ceil_mode);
  const int64_t out_w = pool_output_size(width, window.kernel_w, window.stride_w, window.pad_w, window.ceil_mode);
  const Shape out_shape{x.size(0), x.size(1), out_h, out_w};
  check_pool_operand(x, x.shape(), kernel, "x");
  check_pool_operand(out, out_shape, kernel, "out");
  check_pool_operand(indices, out_shape, kernel, "indices");
  MASKDET_CHECK(out.dtype() == x.dtype() && indices.dtype() == DType::Int64, kernel,
                ": out must have x's dtype and indices must be int64");
  dispatch_floating(x.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    int64_t* ip = indices.data_ptr<int64_t>();
    parallel_for(planes, 1, [&](int64_t pb, int64_t pe) {
      for (int64_t p = pb; p < pe; ++p) {
        const T* plane = xp + p * height * width;
        T* plane_out = op + p * out_h * out_w;
        int64_t* plane_idx = ip + p * out_h * out_w;
        for (int64_t oh = 0; oh < out_h; ++oh) {
          // Clipping the window to the input is the same as padding with -inf.
          const int64_t h_begin = std::max<int64_t>(oh * window.stride_h - window.pad_h, 0);
          const int64_t h_end = std::min(oh * window.stride_h - window.pad_h + window.kernel_h, height);
          for (int64_t ow = 0; ow < out_w; ++ow) {
            const int64_t w_begin = std::max<int64_t>(ow * window.stride_w - window.pad_w, 0);
            const int64_t w_end = std::min(ow * window.stride_w - window.pad_w + window.kernel_w, width);
            T best = -std::numeric_limits<T>::infinity();
            int64_t best_index = h_begin * width + w_begin;
            for (int64_t h = h_begin; h < h_end; ++h) {
              for (int64_t w = w_begin; w < w_end; ++w) {
                const T v = plane[h * width + w];
                // A NaN wins (and stays), as in PyTorch, so it is never hidden by pooling.
                if (v > best || (std::isnan(v) && !std::isnan(best))) {
                  best = v;
                  best_index = h * width + w;
                }
              }
            }
            plane_out[oh * out_w + ow] = best;
            plane_idx[oh * out_w + ow] = best_index;
          }
        }
      }
    });
  });
}

void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_x) {
  constexpr const char* kernel = "max_pool2d_backward";
  MASKDET_CHECK(grad_out.dim() == 4 && grad_x.dim() == 4, kernel, ": grad_out ", shape_str(grad_out.shape()),
                " and grad_x ", shape_str(grad_x.shape()), " must be (N, C, H, W)");
  MASKDET_CHECK(grad_out.size(0) == grad_x.size(0) && grad_out.size(1) == grad_x.size(1), kernel, ": grad_out ",
                shape_str(grad_out.shape()), " and grad_x ", shape_str(grad_x.shape()), " differ in N or C");
  check_pool_operand(grad_out, grad_out.shape(), kernel, "grad_out");
  check_pool_operand(indices, grad_out.shape(), kernel, "indices");
  check_pool_operand(grad_x, grad_x.shape(), kernel, "grad_x");
  MASKDET_CHECK(grad_x.dtype() == grad_out.dtype() && indices.dtype() == DType::Int64, kernel,
                ": grad_x must have grad_out's dtype and indices must be int64");
  const int64_t planes = grad_x.size(0) * grad_x.size(1);
  const int64_t in_plane = grad_x.size(2) * grad_x.size(3), out_plane = grad_out.size(2) * grad_out.size(3);
  dispatch_floating(grad_out.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const T* gp = grad_out.data_ptr<T>();
    const int64_t* ip = indices.data_ptr<int64_t>();
    T* gxp = grad_x.data_ptr<T>();
    parallel_for(planes, 1, [&](int64_t pb, int64_t pe) {
      for (int64_t p = pb; p < pe; ++p) {
        T* plane = gxp + p * in_plane;
        std::fill(plane, plane + in_plane, T(0));
        for (int64_t o = p * out_plane; o < (p + 1) * out_plane; ++o) plane[ip[o]] += gp[o];
      }
    });
  });
}

}  // namespace maskdet::cpu
