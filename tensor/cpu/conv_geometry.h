// The sizes of one CPU convolution, shared by its lowerings (im2col + GEMM, Winograd).
#pragma once
#include <algorithm>
#include <cstdint>

#include "tensor/kernels/conv2d_checks.h"

namespace maskdet::cpu {

// The sizes the kernels' checks establish (tensor/kernels/conv2d_checks.h), with what the CPU
// lowerings derive from them.
struct ConvGeometry : kernels::Conv2dShape {
  int64_t groups() const { return params.groups; }
  int64_t group_in() const { return channels / groups(); }
  int64_t group_out() const { return out_channels / groups(); }
  int64_t kernel_area() const { return kernel_h * kernel_w; }
  int64_t out_area() const { return out_h * out_w; }
  int64_t in_image_size() const { return channels * height * width; }
  int64_t out_image_size() const { return out_channels * out_area(); }
  // The column matrix of one image (all groups) has col_rows() rows of out_area() entries;
  // one group's GEMM has inner size group_k().
  int64_t col_rows() const { return channels * kernel_area(); }
  int64_t group_k() const { return group_in() * kernel_area(); }
  // A 1x1, stride-1, unpadded convolution reads the image itself as its column matrix.
  bool pointwise() const {
    return kernel_h == 1 && kernel_w == 1 && params.stride_h == 1 && params.stride_w == 1 && params.pad_h == 0 &&
           params.pad_w == 0;
  }
};

// Output positions o in [0, out) whose input position o * stride + offset lies inside [0, in):
// always a contiguous range, so loops copy it without a bounds test per element.
struct ValidRange {
  int64_t begin, end;
};
inline ValidRange valid_range(int64_t offset, int64_t stride, int64_t in, int64_t out) {
  const auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  const int64_t begin = std::min(out, offset >= 0 ? 0 : ceil_div(-offset, stride));
  const int64_t end = in - offset <= 0 ? 0 : ceil_div(in - offset, stride);
  return {begin, std::clamp(end, begin, out)};
}

// parallel_for grain for loops over rows of `row_length` elements: chunks of >= ~16K elements,
// below which waking threads costs more than it saves.
inline int64_t rows_grain(int64_t row_length) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(row_length, 1)); }

}  // namespace maskdet::cpu
