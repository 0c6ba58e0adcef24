// CPU reductions: sum over dims, max over one dim.
#include <limits>

#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/reduce.h"
#include "tensor/kernels/reduce_checks.h"
#include "tensor/kernels/reduce_layout.h"

namespace maskdet::cpu {

using kernels::reduce_layout::ReduceLayout;
using kernels::reduce_layout::split_dims;

void sum_forward(const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out) {
  kernels::check_sum_forward_args(x, dims, out, Backend::Cpu);
  const ReduceLayout l = split_dims(x, dims);
  const int64_t n_out = shape_numel(l.kept_shape);
  const int64_t n_red = shape_numel(l.red_shape);
  dispatch_all(x.dtype(), "sum", [&](auto zero) {
    using T = decltype(zero);
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    if (n_out == 0) return;
    if (n_out == 1) {
      // A full reduction: parallel partial sums, combined in a fixed order for repeatable results.
      const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(max_threads(), n_red / 65536));
      std::vector<Acc> partial(chunks, Acc(0));
      const int64_t per = (n_red + chunks - 1) / chunks;
      parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
        for (int64_t c = cb; c < ce; ++c) {
          const int64_t b = c * per, e = std::min(n_red, b + per);
          if (b >= e) continue;
          Acc acc = 0;
          // Walk the flattened reduced index range [b, e) with an odometer.
          Shape idx(l.red_shape.size());
          int64_t off = 0, rem = b;
          for (int64_t d = static_cast<int64_t>(idx.size()) - 1; d >= 0; --d) {
            idx[d] = rem % l.red_shape[d];
            rem /= l.red_shape[d];
            off += idx[d] * l.red_strides[d];
          }
          for (int64_t i = b; i < e; ++i) {
            acc += static_cast<Acc>(xp[off]);
            for (int64_t d = static_cast<int64_t>(idx.size()) - 1; d >= 0; --d) {
              if (++idx[d] < l.red_shape[d]) { off += l.red_strides[d]; break; }
              off -= (l.red_shape[d] - 1) * l.red_strides[d];
              idx[d] = 0;
            }
          }
          partial[c] = acc;
        }
      });
      Acc total = 0;
      for (Acc p : partial) total += p;
      op[0] = static_cast<T>(total);
      return;
    }
    parallel_for(n_out, std::max<int64_t>(1, 16384 / std::max<int64_t>(n_red, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        int64_t base = 0, rem = o;
        for (int64_t d = static_cast<int64_t>(l.kept_shape.size()) - 1; d >= 0; --d) {
          base += (rem % l.kept_shape[d]) * l.kept_strides[d];
          rem /= l.kept_shape[d];
        }
        Acc acc = 0;
        for_each_offset_serial(l.red_shape, l.red_strides, [&](int64_t off) { acc += static_cast<Acc>(xp[base + off]); });
        op[o] = static_cast<T>(acc);
      }
    });
  });
}

void max_forward(const Tensor& x, int64_t dim, const Tensor& values, const Tensor& indices) {
  kernels::check_max_forward_args(x, dim, values, indices, Backend::Cpu);
  const ReduceLayout l = split_dims(x, {dim});
  const int64_t n_out = shape_numel(l.kept_shape);
  const int64_t len = x.size(dim), stride = x.strides()[dim];
  dispatch_all(x.dtype(), "max", [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data_ptr<T>();
    T* vp = values.data_ptr<T>();
    int64_t* ip = indices.data_ptr<int64_t>();
    parallel_for(n_out, std::max<int64_t>(1, 16384 / len), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        int64_t base = 0, rem = o;
        for (int64_t d = static_cast<int64_t>(l.kept_shape.size()) - 1; d >= 0; --d) {
          base += (rem % l.kept_shape[d]) * l.kept_strides[d];
          rem /= l.kept_shape[d];
        }
        T best = xp[base];
        int64_t best_i = 0;
        for (int64_t i = 1; i < len; ++i) {
          const T v = xp[base + i * stride];
          // NaN wins, as in PyTorch, so a NaN is never hidden by max.
          if (v > best || (v != v && best == best)) {
            best = v;
            best_i = i;
          }
        }
        vp[o] = best;
        ip[o] = best_i;
      }
    });
  });
}

}  // namespace maskdet::cpu
