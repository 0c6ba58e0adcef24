// CPU nearest-neighbour 2-D upsampling. The source row and column of every output pixel
// are tabulated once; planes are independent, so both directions run in parallel over them.
#include <algorithm>
#include <vector>

#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/upsample.h"
#include "tensor/kernels/upsample_checks.h"

namespace maskdet::cpu {

namespace {

std::vector<int64_t> source_table(int64_t in, int64_t out, double scale) {
  std::vector<int64_t> table(out);
  for (int64_t i = 0; i < out; ++i) table[i] = nearest_source_index(i, in, out, scale);
  return table;
}

// Pairs every output pixel with its source pixel: start_plane(p) once per (n, c) plane, then
// body(input_offset, output_offset) for that plane's outputs in order. Planes run in parallel,
// each on one thread, so a body that accumulates into the input is race-free.
template <class StartPlane, class Body>
void for_each_source_pixel(const Tensor& small, const Tensor& large, double scale_h, double scale_w,
                           const StartPlane& start_plane, const Body& body) {
  const int64_t planes = small.size(0) * small.size(1), in_h = small.size(2), in_w = small.size(3);
  const int64_t out_h = large.size(2), out_w = large.size(3);
  const auto src_row = source_table(in_h, out_h, scale_h);
  const auto src_col = source_table(in_w, out_w, scale_w);
  parallel_for(planes, 1, [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      start_plane(p);
      for (int64_t i = 0; i < out_h; ++i) {
        const int64_t in_row = (p * in_h + src_row[i]) * in_w, out_row = (p * out_h + i) * out_w;
        for (int64_t j = 0; j < out_w; ++j) body(in_row + src_col[j], out_row + j);
      }
    }
  });
}

}  // namespace

void upsample_nearest2d_forward(const Tensor& x, const Tensor& out, double scale_h, double scale_w) {
  constexpr const char* kernel = "upsample_nearest2d_forward";
  kernels::check_upsample_nearest2d_args(x, out, kernel, Backend::Cpu);
  dispatch_floating(x.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    for_each_source_pixel(x, out, scale_h, scale_w, [](int64_t) {},
                          [&](int64_t in, int64_t o) { op[o] = xp[in]; });
  });
}

void upsample_nearest2d_backward(const Tensor& grad_out, const Tensor& grad_x, double scale_h, double scale_w) {
  constexpr const char* kernel = "upsample_nearest2d_backward";
  kernels::check_upsample_nearest2d_args(grad_x, grad_out, kernel, Backend::Cpu);
  const int64_t plane_size = grad_x.size(2) * grad_x.size(3);
  dispatch_floating(grad_out.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const T* gp = grad_out.data_ptr<T>();
    T* gxp = grad_x.data_ptr<T>();
    for_each_source_pixel(
        grad_x, grad_out, scale_h, scale_w,
        [&](int64_t p) { std::fill(gxp + p * plane_size, gxp + (p + 1) * plane_size, T(0)); },
        [&](int64_t in, int64_t o) { gxp[in] += gp[o]; });
  });
}

}  // namespace maskdet::cpu
