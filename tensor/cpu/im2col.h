// im2col and col2im: the unfolding that turns a convolution into a matrix product
// (Chellapilla, Puri and Simard 2006, "High Performance Convolutional Neural Networks for
// Document Processing"). Column matrix layout, per image:
//   col: (C * KH * KW, OH * OW), row (c, ki, kj) holding x[c, oh * sh - ph + ki * dh, ow * sw - pw + kj * dw]
// (zero where that falls in the padding). Rows of one group are a contiguous block.
#pragma once
#include <algorithm>

#include "tensor/cpu/conv_geometry.h"
#include "tensor/cpu/parallel.h"

namespace maskdet::cpu {

// image: (C, H, W) -> col: (C * KH * KW, OH * OW). Overwrites col.
template <class T>
void im2col(const T* image, const ConvGeometry& g, T* col) {
  const Conv2dParams& p = g.params;
  const int64_t area = g.kernel_area(), cols = g.out_area();
  parallel_for(g.col_rows(), rows_grain(cols), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t c = row / area, ki = (row % area) / g.kernel_w, kj = row % g.kernel_w;
      const int64_t off_h = ki * p.dilation_h - p.pad_h, off_w = kj * p.dilation_w - p.pad_w;
      const ValidRange rh = valid_range(off_h, p.stride_h, g.height, g.out_h);
      const ValidRange rw = valid_range(off_w, p.stride_w, g.width, g.out_w);
      const T* plane = image + c * g.height * g.width;
      T* dst = col + row * cols;
      std::fill(dst, dst + rh.begin * g.out_w, T(0));
      for (int64_t oh = rh.begin; oh < rh.end; ++oh) {
        const T* src = plane + (oh * p.stride_h + off_h) * g.width;
        T* d = dst + oh * g.out_w;
        std::fill(d, d + rw.begin, T(0));
        if (p.stride_w == 1) {
          std::copy(src + rw.begin + off_w, src + rw.end + off_w, d + rw.begin);
        } else {
          for (int64_t ow = rw.begin; ow < rw.end; ++ow) d[ow] = src[ow * p.stride_w + off_w];
        }
        std::fill(d + rw.end, d + g.out_w, T(0));
      }
      std::fill(dst + rh.end * g.out_w, dst + cols, T(0));
    }
  });
}

// col: (C * KH * KW, OH * OW) -> image: (C, H, W), each pixel the sum of the column entries
// that read it (the adjoint of im2col). Overwrites image. Parallel over channels, which
// write disjoint planes.
template <class T>
void col2im(const T* col, const ConvGeometry& g, T* image) {
  const Conv2dParams& p = g.params;
  const int64_t cols = g.out_area(), plane_size = g.height * g.width;
  parallel_for(g.channels, rows_grain(g.kernel_area() * cols), [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      T* plane = image + c * plane_size;
      std::fill(plane, plane + plane_size, T(0));
      for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
        for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
          const int64_t off_h = ki * p.dilation_h - p.pad_h, off_w = kj * p.dilation_w - p.pad_w;
          const ValidRange rh = valid_range(off_h, p.stride_h, g.height, g.out_h);
          const ValidRange rw = valid_range(off_w, p.stride_w, g.width, g.out_w);
          const T* src = col + ((c * g.kernel_h + ki) * g.kernel_w + kj) * cols;
          for (int64_t oh = rh.begin; oh < rh.end; ++oh) {
            T* d = plane + (oh * p.stride_h + off_h) * g.width;
            const T* s = src + oh * g.out_w;
            if (p.stride_w == 1) {
              for (int64_t ow = rw.begin; ow < rw.end; ++ow) d[ow + off_w] += s[ow];
            } else {
              for (int64_t ow = rw.begin; ow < rw.end; ++ow) d[ow * p.stride_w + off_w] += s[ow];
            }
          }
        }
      }
    }
  });
}

}  // namespace maskdet::cpu
