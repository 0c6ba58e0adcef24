// CPU index_select and gather with their scatter-add backwards. Index values are validated
// in one serial pass before any parallel work, so an error can name the first bad index and
// is never thrown from inside a parallel region. The backwards split the work so that no two
// threads add into the same element.
#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/index.h"
#include "tensor/kernels/index_checks.h"

namespace maskdet::cpu {

namespace {

// Throws for the first index value outside [0, size), naming its value and its position.
void check_index_values(const Tensor& index, int64_t size, int64_t dim, const Shape& indexed_shape,
                        const char* kernel) {
  kernels::check_index_dtype(index, kernel);
  const int64_t* ip = index.data_ptr<int64_t>();
  int64_t position = 0, bad_position = -1, bad_value = 0;
  for_each_offset_serial(index.shape(), index.strides(), [&](int64_t off) {
    if (bad_position < 0 && (ip[off] < 0 || ip[off] >= size)) {
      bad_position = position;
      bad_value = ip[off];
    }
    ++position;
  });
  if (bad_position < 0) return;
  kernels::fail_index_out_of_range(bad_value, kernels::unravel_position(bad_position, index.shape()), size, dim,
                                   indexed_shape, kernel);
}

using kernels::IndexSelectLayout;

// Walks index's positions in parallel over every coordinate but `dim`, and serially along
// `dim`: body(index_offset, full_offset_without_dim, picked_offset). Positions that differ
// only along dim may address the same element of `full`, so they stay on one thread.
template <class Body>
void for_each_gather_position(const Tensor& index, int64_t dim, const Tensor& full, const Tensor& picked,
                              const Body& body) {
  if (index.dim() == 0) {
    body(int64_t{0}, int64_t{0}, int64_t{0});
    return;
  }
  Shape outer_shape = index.shape();
  const int64_t length = outer_shape[dim];
  outer_shape[dim] = 1;
  Shape full_strides = full.strides();
  full_strides[dim] = 0;
  const int64_t index_step = index.strides()[dim], picked_step = picked.strides()[dim];
  for_each_offset<3>(outer_shape, {index.strides(), full_strides, picked.strides()},
                     [&](const std::array<int64_t, 3>& o) {
                       for (int64_t k = 0; k < length; ++k) body(o[0] + k * index_step, o[1], o[2] + k * picked_step);
                     });
}

}  // namespace

void index_select_forward(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  constexpr const char* kernel = "index_select_forward";
  const IndexSelectLayout l = kernels::check_index_select_args(x, dim, index, out, kernel, Backend::Cpu);
  check_index_values(index, l.size, dim, x.shape(), kernel);
  const int64_t n = l.size, picks = index.size(0), index_stride = index.strides()[0];
  dispatch_all(x.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    const int64_t* ip = index.data_ptr<int64_t>();
    // One job per (outer, k) row of `inner` contiguous elements.
    parallel_for(l.outer * picks, std::max<int64_t>(1, 4096 / std::max<int64_t>(l.inner, 1)),
                 [&](int64_t rb, int64_t re) {
                   for (int64_t r = rb; r < re; ++r) {
                     const int64_t o = r / picks, k = r % picks;
                     const T* src = xp + (o * n + ip[k * index_stride]) * l.inner;
                     std::copy(src, src + l.inner, op + r * l.inner);
                   }
                 });
  });
}

void index_select_backward(const Tensor& grad_out, int64_t dim, const Tensor& index, const Tensor& grad_x) {
  constexpr const char* kernel = "index_select_backward";
  const IndexSelectLayout l = kernels::check_index_select_args(grad_x, dim, index, grad_out, kernel, Backend::Cpu);
  check_index_values(index, l.size, dim, grad_x.shape(), kernel);
  const int64_t n = l.size, picks = index.size(0), index_stride = index.strides()[0];
  dispatch_all(grad_out.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const T* gp = grad_out.data_ptr<T>();
    T* gxp = grad_x.data_ptr<T>();
    const int64_t* ip = index.data_ptr<int64_t>();
    // Jobs are (outer, inner) columns; each thread walks all k for its columns, so a repeated
    // index never has two threads adding into the same element.
    const int64_t columns = l.outer * l.inner;
    parallel_for(columns, std::max<int64_t>(1, 4096 / std::max<int64_t>(picks, 1)), [&](int64_t cb, int64_t ce) {
      for (int64_t o = cb / l.inner; o * l.inner < ce; ++o) {
        const int64_t i_begin = std::max(cb - o * l.inner, int64_t{0});
        const int64_t i_end = std::min(ce - o * l.inner, l.inner);
        for (int64_t k = 0; k < picks; ++k) {
          T* dst = gxp + (o * n + ip[k * index_stride]) * l.inner;
          const T* src = gp + (o * picks + k) * l.inner;
          for (int64_t i = i_begin; i < i_end; ++i) dst[i] += src[i];
        }
      }
    });
  });
}

void gather_forward(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  constexpr const char* kernel = "gather_forward";
  const int64_t size = kernels::check_gather_args(x, dim, index, out, kernel, Backend::Cpu);
  check_index_values(index, size, dim, x.shape(), kernel);
  const int64_t x_step = x.dim() == 0 ? 0 : x.strides()[dim];
  dispatch_all(x.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    const int64_t* ip = index.data_ptr<int64_t>();
    for_each_gather_position(index, dim, x, out, [&](int64_t i, int64_t x_base, int64_t o) {
      op[o] = xp[x_base + ip[i] * x_step];
    });
  });
}

void gather_backward(const Tensor& grad_out, int64_t dim, const Tensor& index, const Tensor& grad_x) {
  constexpr const char* kernel = "gather_backward";
  const int64_t size = kernels::check_gather_args(grad_x, dim, index, grad_out, kernel, Backend::Cpu);
  check_index_values(index, size, dim, grad_x.shape(), kernel);
  const int64_t gx_step = grad_x.dim() == 0 ? 0 : grad_x.strides()[dim];
  dispatch_all(grad_out.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const T* gp = grad_out.data_ptr<T>();
    T* gxp = grad_x.data_ptr<T>();
    const int64_t* ip = index.data_ptr<int64_t>();
    for_each_gather_position(index, dim, grad_x, grad_out, [&](int64_t i, int64_t gx_base, int64_t g) {
      gxp[gx_base + ip[i] * gx_step] += gp[g];
    });
  });
}

}  // namespace maskdet::cpu
