// Direct depthwise convolution on the CPU (conv2d_depthwise.h).
#include "tensor/cpu/conv2d_depthwise.h"

#include <algorithm>
#include <vector>

#include "tensor/cpu/parallel.h"

namespace maskdet::cpu {

namespace {

// One plane, zero-padded and split by column phase: element (q, r, j) is padded[r][j*sw + q],
// padded[r][c] = x[r - pad_h][c - pad_w] (0 outside). Only the rows and columns that some
// output reads are kept.
struct PhaseLayout {
  int64_t phases, rows, cols;  // cols per phase row
  int64_t size() const { return phases * rows * cols; }
  int64_t at(int64_t q, int64_t r, int64_t j) const { return (q * rows + r) * cols + j; }
};

PhaseLayout phase_layout(const ConvGeometry& g) {
  const int64_t sh = g.params.stride_h, sw = g.params.stride_w;
  return {sw, (g.out_h - 1) * sh + g.kernel_h, g.out_w + (g.kernel_w - 1) / sw};
}

template <class T>
void fill_phases(const T* plane, const ConvGeometry& g, const PhaseLayout& L, T* phases) {
  const int64_t sw = g.params.stride_w;
  for (int64_t q = 0; q < L.phases; ++q)
    for (int64_t r = 0; r < L.rows; ++r) {
      T* dst = phases + L.at(q, r, 0);
      const int64_t ih = r - g.params.pad_h;
      if (ih < 0 || ih >= g.height) {
        std::fill(dst, dst + L.cols, T(0));
        continue;
      }
      const T* src = plane + ih * g.width;
      // Input column of phase element j: j*sw + q - pad_w, inside [0, W) for j in [begin, end).
      const ValidRange valid = valid_range(q - g.params.pad_w, sw, g.width, L.cols);
      std::fill(dst, dst + valid.begin, T(0));
      for (int64_t j = valid.begin; j < valid.end; ++j) dst[j] = src[j * sw + q - g.params.pad_w];
      std::fill(dst + valid.end, dst + L.cols, T(0));
    }
}

// The contiguous run that tap (kh, kw) of output row oh reads: OW elements.
inline int64_t tap_offset(const ConvGeometry& g, const PhaseLayout& L, int64_t oh, int64_t kh, int64_t kw) {
  const int64_t sw = g.params.stride_w;
  return L.at(kw % sw, oh * g.params.stride_h + kh, kw / sw);
}

template <class T>
inline void axpy(int64_t n, T a, const T* __restrict x, T* __restrict y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

template <class T>
inline T dot(int64_t n, const T* __restrict x, const T* __restrict y) {
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

// parallel_for grain over planes: about 64K multiply-adds per chunk.
int64_t plane_grain(const ConvGeometry& g) {
  return std::max<int64_t>(1, 65536 / std::max<int64_t>(g.out_area() * g.kernel_area(), 1));
}

}  // namespace

bool depthwise_applies(const ConvGeometry& g) {
  return g.groups() == g.channels && g.out_channels == g.channels && g.params.dilation_h == 1 &&
         g.params.dilation_w == 1;
}

template <class T>
void depthwise_forward(const T* x, const T* weight, const T* bias, T* out, const ConvGeometry& g) {
  const PhaseLayout L = phase_layout(g);
  const int64_t kh_n = g.kernel_h, kw_n = g.kernel_w, ow_n = g.out_w;
  parallel_for(g.batch * g.channels, plane_grain(g), [&](int64_t first, int64_t last) {
    std::vector<T> phases(static_cast<size_t>(L.size()));
    for (int64_t plane = first; plane < last; ++plane) {
      const int64_t c = plane % g.channels;
      fill_phases(x + plane * g.height * g.width, g, L, phases.data());
      const T* w = weight + c * kh_n * kw_n;
      T* o = out + plane * g.out_area();
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        T* row = o + oh * ow_n;
        std::fill(row, row + ow_n, bias ? bias[c] : T(0));
        for (int64_t kh = 0; kh < kh_n; ++kh)
          for (int64_t kw = 0; kw < kw_n; ++kw)
            axpy(ow_n, w[kh * kw_n + kw], phases.data() + tap_offset(g, L, oh, kh, kw), row);
      }
    }
  });
}

template <class T>
void depthwise_backward_data(const T* grad_out, const T* weight, T* grad_x, const ConvGeometry& g) {
  const PhaseLayout L = phase_layout(g);
  const int64_t kh_n = g.kernel_h, kw_n = g.kernel_w, ow_n = g.out_w, sw = g.params.stride_w;
  parallel_for(g.batch * g.channels, plane_grain(g), [&](int64_t first, int64_t last) {
    std::vector<T> phases(static_cast<size_t>(L.size()));
    for (int64_t plane = first; plane < last; ++plane) {
      const int64_t c = plane % g.channels;
      std::fill(phases.begin(), phases.end(), T(0));
      const T* w = weight + c * kh_n * kw_n;
      const T* go = grad_out + plane * g.out_area();
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t kh = 0; kh < kh_n; ++kh)
          for (int64_t kw = 0; kw < kw_n; ++kw)
            axpy(ow_n, w[kh * kw_n + kw], go + oh * ow_n, phases.data() + tap_offset(g, L, oh, kh, kw));
      // grad_x[ih][iw] = padded gradient at (ih + pad_h, iw + pad_w); rows and columns that no
      // output reads (past the last window) get nothing.
      T* gx = grad_x + plane * g.height * g.width;
      for (int64_t ih = 0; ih < g.height; ++ih) {
        T* dst = gx + ih * g.width;
        const int64_t r = ih + g.params.pad_h;
        if (r >= L.rows) {
          std::fill(dst, dst + g.width, T(0));
          continue;
        }
        for (int64_t iw = 0; iw < g.width; ++iw) {
          const int64_t col = iw + g.params.pad_w, j = col / sw;
          dst[iw] = j < L.cols ? phases[static_cast<size_t>(L.at(col % sw, r, j))] : T(0);
        }
      }
    }
  });
}

template <class T>
void depthwise_backward_filter(const T* grad_out, const T* x, T* grad_weight, const ConvGeometry& g) {
  const PhaseLayout L = phase_layout(g);
  const int64_t kh_n = g.kernel_h, kw_n = g.kernel_w, ow_n = g.out_w, taps = kh_n * kw_n;
  const int64_t grain = std::max<int64_t>(1, plane_grain(g) / std::max<int64_t>(g.batch, 1));
  parallel_for(g.channels, grain, [&](int64_t first, int64_t last) {
    std::vector<T> phases(static_cast<size_t>(L.size()));
    std::vector<double> sums(static_cast<size_t>(taps));
    for (int64_t c = first; c < last; ++c) {
      std::fill(sums.begin(), sums.end(), 0.0);
      for (int64_t n = 0; n < g.batch; ++n) {
        const int64_t plane = n * g.channels + c;
        fill_phases(x + plane * g.height * g.width, g, L, phases.data());
        const T* go = grad_out + plane * g.out_area();
        // Row dots in T, their sum in double: a filter tap sums N*OH*OW products.
        for (int64_t oh = 0; oh < g.out_h; ++oh)
          for (int64_t kh = 0; kh < kh_n; ++kh)
            for (int64_t kw = 0; kw < kw_n; ++kw)
              sums[static_cast<size_t>(kh * kw_n + kw)] +=
                  dot(ow_n, go + oh * ow_n, phases.data() + tap_offset(g, L, oh, kh, kw));
      }
      for (int64_t k = 0; k < taps; ++k) grad_weight[c * taps + k] = static_cast<T>(sums[static_cast<size_t>(k)]);
    }
  });
}

#define MASKDET_DEPTHWISE_INSTANTIATE(T)                                                                      \
  template void depthwise_forward<T>(const T*, const T*, const T*, T*, const ConvGeometry&);                  \
  template void depthwise_backward_data<T>(const T*, const T*, T*, const ConvGeometry&);                      \
  template void depthwise_backward_filter<T>(const T*, const T*, T*, const ConvGeometry&);
MASKDET_DEPTHWISE_INSTANTIATE(float)
MASKDET_DEPTHWISE_INSTANTIATE(double)
#undef MASKDET_DEPTHWISE_INSTANTIATE

}  // namespace maskdet::cpu
