// CPU 2-D max pooling. Every (n, c) plane is an independent job, so both directions run in
// parallel over planes and the backward can accumulate without races.
#include <cmath>
#include <limits>

#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/pool.h"
#include "tensor/kernels/pool_checks.h"

namespace maskdet::cpu {

void max_pool2d_forward(const Tensor& x, const Tensor& out, const Tensor& indices, const Pool2dWindow& window) {
  constexpr const char* kernel = "max_pool2d_forward";
  kernels::check_max_pool2d_forward_args(x, out, indices, window, Backend::Cpu);
  const int64_t planes = x.size(0) * x.size(1), height = x.size(2), width = x.size(3);
  const int64_t out_h = out.size(2), out_w = out.size(3);
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
  kernels::check_max_pool2d_backward_args(grad_out, indices, grad_x, Backend::Cpu);
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
