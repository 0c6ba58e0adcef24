// for_each_offset: visits every element of a shape for N operands with their own strides
// (stride 0 for broadcast dims), handing the body each operand's element offset.
// Dense operands take a flat loop; others an odometer over the dims. Parallel over chunks.
#pragma once
#include <array>
#include <vector>

#include "tensor/cpu/parallel.h"
#include "tensor/kernels/kernel_checks.h"
#include "tensor/shape.h"
#include "tensor/tensor.h"

namespace maskdet::cpu {

template <size_t N, class Body>
void for_each_offset(const Shape& shape, const std::array<Shape, N>& strides, const Body& body) {
  const int64_t n = shape_numel(shape);
  if (n == 0) return;
  const int64_t ndim = static_cast<int64_t>(shape.size());
  const Shape dense = contiguous_strides(shape);
  bool all_dense = true;
  for (const auto& s : strides)
    for (int64_t d = 0; d < ndim; ++d)
      if (shape[d] != 1 && s[d] != dense[d]) all_dense = false;
  constexpr int64_t grain = 16384;
  if (all_dense) {
    parallel_for(n, grain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        std::array<int64_t, N> off;
        off.fill(i);
        body(off);
      }
    });
    return;
  }
  parallel_for(n, grain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> idx(ndim);
    std::array<int64_t, N> off{};
    int64_t rem = begin;
    for (int64_t d = ndim - 1; d >= 0; --d) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
      for (size_t k = 0; k < N; ++k) off[k] += idx[d] * strides[k][d];
    }
    for (int64_t i = begin; i < end; ++i) {
      body(off);
      for (int64_t d = ndim - 1; d >= 0; --d) {
        if (++idx[d] < shape[d]) {
          for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
          break;
        }
        for (size_t k = 0; k < N; ++k) off[k] -= (shape[d] - 1) * strides[k][d];
        idx[d] = 0;
      }
    }
  });
}

// The kernels' checks (tensor/kernels/<family>_checks.h) run here with Backend::Cpu.
using kernels::Backend;

// The data pointer of an optional operand, null when it is undefined.
template <class T>
T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

}  // namespace maskdet::cpu

namespace maskdet::cpu {

// Serial odometer over one operand: body(offset) for each element of shape.
template <class Body>
void for_each_offset_serial(const Shape& shape, const Shape& strides, const Body& body) {
  const int64_t n = shape_numel(shape);
  if (n == 0) return;
  const int64_t ndim = static_cast<int64_t>(shape.size());
  if (ndim == 0) { body(int64_t{0}); return; }
  std::vector<int64_t> idx(ndim, 0);
  int64_t off = 0;
  const int64_t last = ndim - 1, inner = shape[last], inner_stride = strides[last];
  for (int64_t i = 0; i < n; i += inner) {
    for (int64_t j = 0; j < inner; ++j) body(off + j * inner_stride);
    for (int64_t d = last - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) { off += strides[d]; break; }
      off -= (shape[d] - 1) * strides[d];
      idx[d] = 0;
    }
  }
}

}  // namespace maskdet::cpu
