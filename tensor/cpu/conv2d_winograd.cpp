// Winograd F(2x2, 3x3) convolution passes (see conv2d_winograd.h), with the transform matrices
// of Lavin and Gray (2016), section 4.1. The tile transforms apply those matrices to rows and
// columns of image strips; the 16 products of each pass are single-threaded OpenBLAS GEMMs
// spread over the OpenMP threads.
//
// F(4x4, 3x3) (36 products for 4x4 output tiles) needs 1.8x fewer multiplications still and
// ran the benchmark (bench/conv2d_bench.cpp) about 15% faster, but its float32 error, ~1e-5 of
// the largest output on 256 channels against ~5e-7 for direct summation, broke the gradient
// parity with torchvision (tests/parity: 1e-2 instead of 1e-6), while F(2x2, 3x3) matches
// im2col + GEMM there.
#include "tensor/cpu/conv2d_winograd.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "tensor/cpu/blas.h"
#include "tensor/cpu/parallel.h"
#include "tensor/cpu/workspace.h"

namespace maskdet::cpu {

namespace {

template <size_t R, size_t C>
using Matrix = std::array<std::array<double, C>, R>;

template <size_t R, size_t C>
constexpr Matrix<C, R> transposed(const Matrix<R, C>& m) {
  Matrix<C, R> t{};
  for (size_t i = 0; i < R; ++i)
    for (size_t j = 0; j < C; ++j) t[j][i] = m[i][j];
  return t;
}

constexpr int64_t kOut = 2;                // side of an output tile
constexpr int64_t kIn = kOut + 2;          // side of the input tile it reads
constexpr int64_t kPositions = kIn * kIn;  // entries of a transformed tile

// out tile = A^T [(G w G^T) . (B^T d B)] A for a 4x4 input tile d and 3x3 kernel w.
constexpr Matrix<kIn, kIn> kBT{{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}};
constexpr Matrix<kIn, 3> kG{{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}};
constexpr Matrix<kOut, kIn> kAT{{{1, 1, 1, 0}, {0, 1, -1, -1}}};
constexpr Matrix<kIn, kOut> kA = transposed(kAT);
constexpr Matrix<3, kIn> kGT = transposed(kG);

// ---- the one arithmetic primitive ----

// out_i[x] = sum_j L[i][j] in_j[x] for x < length: a small constant matrix applied to K
// vectors at once. Every transform below is a sequence of these over contiguous vectors. L is
// a template argument so that each output is one expression over its nonzero terms only, with
// the coefficients (mostly +-1) folded in, in a loop the compiler vectorises.
template <const auto& L, size_t I, class T, size_t K>
void combine_row(const std::array<const T*, K>& in, T* out, int64_t length) {
  [&]<size_t... J>(std::index_sequence<J...>) {
    for (int64_t x = 0; x < length; ++x) {
      T acc = T(-0.0);  // the identity of +, which the compiler can drop (unlike +0.0)
      ((L[I][J] != 0 ? void(acc += T(L[I][J]) * in[J][x]) : void()), ...);
      out[x] = acc;
    }
  }(std::make_index_sequence<K>{});
}

template <const auto& L, class T, size_t R, size_t K>
void combine(const std::array<const T*, K>& in, const std::array<T*, R>& out, int64_t length) {
  static_assert(L.size() == R && L[0].size() == K, "combine: matrix and vector counts differ");
  [&]<size_t... I>(std::index_sequence<I...>) { (combine_row<L, I>(in, out[I], length), ...); }(
      std::make_index_sequence<R>{});
}

// N pointers base, base + stride, base + 2 stride, ...
template <size_t N, class T>
std::array<T*, N> strided(T* base, int64_t stride) {
  std::array<T*, N> p;
  for (size_t i = 0; i < N; ++i) p[i] = base + static_cast<int64_t>(i) * stride;
  return p;
}

// ---- the problem and its buffers ----

// A stride-1 3x3 convolution of (batch, in_channels, in_h, in_w) images into (batch,
// out_channels, out_h, out_w) ones, in the forward direction of whichever pass runs it. Output
// tile (ti, tj) covers rows 2 ti, 2 ti + 1 and reads input rows 2 ti - pad_h .. 2 ti - pad_h + 3.
struct WinogradProblem {
  int64_t batch, in_channels, in_h, in_w;
  int64_t out_channels, out_h, out_w;
  int64_t pad_h, pad_w;

  int64_t tile_rows() const { return (out_h + kOut - 1) / kOut; }
  int64_t tile_cols() const { return (out_w + kOut - 1) / kOut; }
};

WinogradProblem forward_problem(const ConvGeometry& g) {
  return {g.batch, g.channels, g.height, g.width, g.out_channels, g.out_h, g.out_w, g.params.pad_h, g.params.pad_w};
}

// Backward data as a forward convolution: grad_out in, grad_x out, with the kernel flipped and
// padding 2 - pad, so that the output is the input's size again.
WinogradProblem backward_data_problem(const ConvGeometry& g) {
  return {g.batch,  g.out_channels, g.out_h,  g.out_w, g.channels,
          g.height, g.width,        2 - g.params.pad_h, 2 - g.params.pad_w};
}

// 16 matrices (rows, cols), one per position p of a transformed tile, in one workspace slot
// (uninitialised: every user overwrites it whole). A tile's entries go to the same offset of
// every plane; with power-of-two planes those addresses share cache sets and evict one another,
// so the planes sit one cache line further apart.
template <class T>
struct PositionPlanes {
  int64_t rows, cols, stride;
  T* data;

  PositionPlanes(int slot, int64_t rows, int64_t cols)
      : rows(rows), cols(cols), stride(rows * cols + 16), data(workspace<T>(slot, kPositions * stride)) {}
  T* plane(int64_t p) const { return data + p * stride; }
};

// The image transforms work on a chunk of tile rows, [begin, end) counted over the whole batch
// (row r is tile row r % tile_rows() of image r / tile_rows()), whose tiles are numbered
// t = (r - begin) * tile_cols() + tj in the position planes.
struct TileRowRange {
  int64_t begin, end;
  int64_t size() const { return end - begin; }
};

// ---- transforms ----
//
// The column half of an image transform takes, for tile t of a strip, the strip's columns
// 2 t .. 2 t + 3 (input) or 2 t, 2 t + 1 (output). Strips are therefore held in phase layout,
// phase f at [f * phase_length, ...) holding columns 2 t + f, so that column 2 t + j of every
// tile is the contiguous vector phase (j % 2) from offset j / 2.

// One row of a (height, width) plane in phase layout, covering strip columns
// [-shift, 2 * phase_length - shift) of the row; zeros outside the plane. `row_buffer` is
// scratch room for 2 * phase_length elements.
template <class T>
void load_phased_row(const T* plane, int64_t height, int64_t width, int64_t row, int64_t shift, int64_t phase_length,
                     T* row_buffer, T* out) {
  const int64_t span = kOut * phase_length;
  if (row < 0 || row >= height) {
    std::fill(out, out + span, T(0));
    return;
  }
  // The padded row first (contiguous copies), then its phases.
  const int64_t begin = std::clamp<int64_t>(shift, 0, span), end = std::clamp<int64_t>(width + shift, begin, span);
  const T* src = plane + row * width - shift;
  std::fill(row_buffer, row_buffer + begin, T(0));
  std::copy(src + begin, src + end, row_buffer + begin);
  std::fill(row_buffer + end, row_buffer + span, T(0));
  for (int64_t t = 0; t < phase_length; ++t)
    for (int64_t f = 0; f < kOut; ++f) out[f * phase_length + t] = row_buffer[kOut * t + f];
}

// The weight transforms handle kBlock kernels per step, as vectors of that length, and use
// threads only from kMinParallelBlocks blocks on (a block is only ~50K flops).
constexpr int64_t kBlock = 256, kMinParallelBlocks = 8;

// U[p][o][c] = (G w[o, c] G^T)[p]: u holds 16 (O, C) matrices for weight (O, C, 3, 3). With
// flip_swap the kernel is first flipped in both spatial dims and its channel axes swapped (the
// backward data kernel), so u holds (C, O) matrices.
template <class T>
void transform_weights(const T* weight, int64_t out_channels, int64_t in_channels, bool flip_swap,
                       const PositionPlanes<T>& u) {
  const int64_t pairs = out_channels * in_channels;
  parallel_for((pairs + kBlock - 1) / kBlock, kMinParallelBlocks, [&](int64_t first_block, int64_t last_block) {
    std::vector<T> w(9 * kBlock), gw(kIn * 3 * kBlock);  // kernel entries, then G w
    for (int64_t block = first_block; block < last_block; ++block) {
      // Kernel q of the block is u's entry q0 + q; entry (i, j) of every kernel is one vector.
      const int64_t q0 = block * kBlock, count = std::min(kBlock, pairs - q0);
      for (int64_t q = 0; q < count; ++q) {
        const int64_t at = q0 + q;
        const int64_t source = flip_swap ? (at % out_channels) * in_channels + at / out_channels : at;
        for (int64_t e = 0; e < 9; ++e) w[e * kBlock + q] = weight[source * 9 + (flip_swap ? 8 - e : e)];
      }
      // G w, one kernel column j at a time; then (G w) G^T, one row a at a time, straight into u.
      for (int64_t j = 0; j < 3; ++j)
        combine<kG>(strided<3>(static_cast<const T*>(w.data()) + j * kBlock, 3 * kBlock),
                    strided<kIn>(gw.data() + j * kBlock, 3 * kBlock), count);
      for (int64_t a = 0; a < kIn; ++a)
        combine<kG>(strided<3>(static_cast<const T*>(gw.data()) + a * 3 * kBlock, kBlock),
                    strided<kIn>(u.plane(kIn * a) + q0, u.stride), count);
    }
  });
}

// grad_weight[o, c] = G^T dU[:, o, c] G, with du holding 16 (O, C) matrices.
template <class T>
void transform_weight_grads(const PositionPlanes<T>& du, T* grad_weight) {
  const int64_t pairs = du.rows * du.cols;
  parallel_for((pairs + kBlock - 1) / kBlock, kMinParallelBlocks, [&](int64_t first_block, int64_t last_block) {
    std::vector<T> gtdu(3 * kIn * kBlock), dw(9 * kBlock);  // G^T dU, then G^T dU G
    for (int64_t block = first_block; block < last_block; ++block) {
      const int64_t q0 = block * kBlock, count = std::min(kBlock, pairs - q0);
      for (int64_t b = 0; b < kIn; ++b)
        combine<kGT>(strided<kIn>(static_cast<const T*>(du.plane(b)) + q0, kIn * du.stride),
                     strided<3>(gtdu.data() + b * kBlock, kIn * kBlock), count);
      for (int64_t a = 0; a < 3; ++a)
        combine<kGT>(strided<kIn>(static_cast<const T*>(gtdu.data()) + a * kIn * kBlock, kBlock),
                     strided<3>(dw.data() + a * 3 * kBlock, kBlock), count);
      for (int64_t q = 0; q < count; ++q)
        for (int64_t e = 0; e < 9; ++e) grad_weight[(q0 + q) * 9 + e] = dw[e * kBlock + q];
    }
  });
}

// planes[4 i + k][c][t] = (L s L^T)[i][k] for every K x K tile s of channel c of `images`
// (batch, channels, height, width), tile t = (n, ti, tj) starting at row 2 ti - pad_h and column
// 2 tj - pad_w, zeros outside the image. With L = B^T (K = 4) this is the input transform
// V = B^T d B; with L = A (K = 2) and no padding, the output-gradient transform dM = A dy A^T,
// the adjoint of transform_output.
template <const auto& L, class T>
void transform_tiles(const T* images, int64_t channels, int64_t height, int64_t width, int64_t pad_h, int64_t pad_w,
                     const WinogradProblem& w, TileRowRange chunk, const PositionPlanes<T>& planes) {
  constexpr int64_t rows_out = L.size(), side = L[0].size();
  // Tile t reads strip columns up to 2 t + side - 1.
  const int64_t cols = w.tile_cols(), phase = cols + (side - 1) / kOut, strip = kOut * phase;
  parallel_for(channels, rows_grain(chunk.size() * cols * kPositions), [&](int64_t begin, int64_t end) {
    // The tile row's image strips, then L times them, and room to pad one row.
    std::vector<T> s(side * strip), ls(rows_out * strip), row_buffer(strip);
    for (int64_t c = begin; c < end; ++c) {
      for (int64_t r = chunk.begin; r < chunk.end; ++r) {
        const int64_t n = r / w.tile_rows(), ti = r % w.tile_rows();
        const T* plane = images + (n * channels + c) * height * width;
        for (int64_t i = 0; i < side; ++i)
          load_phased_row(plane, height, width, kOut * ti - pad_h + i, pad_w, phase, row_buffer.data(),
                          s.data() + i * strip);
        combine<L>(strided<side>(static_cast<const T*>(s.data()), strip), strided<rows_out>(ls.data(), strip), strip);
        const int64_t first_tile = c * planes.cols + (r - chunk.begin) * cols;
        for (int64_t i = 0; i < rows_out; ++i) {
          std::array<const T*, side> columns;  // column 2 t + j of every tile t
          for (int64_t j = 0; j < side; ++j) columns[j] = ls.data() + i * strip + (j % kOut) * phase + j / kOut;
          combine<L>(columns, strided<rows_out>(planes.plane(rows_out * i) + first_tile, planes.stride), cols);
        }
      }
    }
  });
}

// out[n, o, 2 ti + a, 2 tj + b] = (A^T M[:, o, t] A)[a][b] + bias[o], cropped to the output;
// m: 16 x (out_channels, chunk tiles). bias may be null.
template <class T>
void transform_output(const PositionPlanes<T>& m, const T* bias, const WinogradProblem& w, TileRowRange chunk,
                      T* out) {
  const int64_t cols = w.tile_cols(), tiles = chunk.size() * cols;
  parallel_for(w.out_channels, rows_grain(tiles * kPositions), [&](int64_t begin, int64_t end) {
    std::vector<T> am(kOut * kIn * tiles), y(kOut * cols);  // A^T M over the chunk; one strip in phase layout
    for (int64_t o = begin; o < end; ++o) {
      // am[a][k] = sum_i A^T[a][i] M[4 i + k], for all of the chunk's tiles at once.
      for (int64_t k = 0; k < kIn; ++k)
        combine<kAT>(strided<kIn>(static_cast<const T*>(m.plane(k)) + o * m.cols, kIn * m.stride),
                     strided<kOut>(am.data() + k * tiles, kIn * tiles), tiles);
      const T shift = bias ? bias[o] : T(0);
      for (int64_t r = chunk.begin; r < chunk.end; ++r) {
        const int64_t n = r / w.tile_rows(), ti = r % w.tile_rows(), first_tile = (r - chunk.begin) * cols;
        T* plane = out + (n * w.out_channels + o) * w.out_h * w.out_w;
        for (int64_t a = 0; a < kOut && kOut * ti + a < w.out_h; ++a) {
          combine<kAT>(strided<kIn>(static_cast<const T*>(am.data()) + a * kIn * tiles + first_tile, tiles),
                       strided<kOut>(y.data(), cols), cols);
          T* dst = plane + (kOut * ti + a) * w.out_w;
          for (int64_t j = 0; j < w.out_w; ++j) dst[j] = y[(j % kOut) * cols + j / kOut] + shift;
        }
      }
    }
  });
}

// ---- the passes ----

// Runs product(p) for every position, each product one single-threaded GEMM of m x n x k:
// spread over the OpenMP threads, so that the whole pass runs on one thread pool, unless the
// products are too small to be worth waking the threads for. Handed out one at a time, so
// that a thread whose core is busy with another process simply takes fewer of them.
template <class Product>
void for_each_position(int64_t m, int64_t n, int64_t k, const Product& product) {
  [[maybe_unused]] const bool parallel = kPositions * m * n * k >= kMinParallelGemmMacs;
  SingleThreadedBlas single;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
#endif
  for (int64_t p = 0; p < kPositions; ++p) product(p);
}

// How many tile rows one chunk holds: as many as fit the byte budget for the chunk's
// transformed input and output, 16 x (C + O) x tiles.
template <class T>
int64_t chunk_rows(const WinogradProblem& w, int64_t chunk_bytes) {
  const int64_t tiles = std::max<int64_t>(
      1, chunk_bytes / (kPositions * (w.in_channels + w.out_channels) * static_cast<int64_t>(sizeof(T))));
  return std::clamp<int64_t>(tiles / w.tile_cols(), 1, std::max<int64_t>(1, w.batch * w.tile_rows()));
}

// The forward direction shared by the forward and backward data passes, given u: 16 (O, C).
template <class T>
void winograd_convolve(const T* input, const PositionPlanes<T>& u, const T* bias, T* output,
                       const WinogradProblem& w, int64_t chunk_bytes) {
  const int64_t total_rows = w.batch * w.tile_rows(), step = chunk_rows<T>(w, chunk_bytes);
  const PositionPlanes<T> v(1, w.in_channels, step * w.tile_cols()), m(2, w.out_channels, step * w.tile_cols());
  for (int64_t first = 0; first < total_rows; first += step) {
    const TileRowRange chunk{first, std::min(total_rows, first + step)};
    const int64_t tiles = chunk.size() * w.tile_cols();
    transform_tiles<kBT>(input, w.in_channels, w.in_h, w.in_w, w.pad_h, w.pad_w, w, chunk, v);
    for_each_position(m.rows, tiles, v.rows, [&](int64_t p) {
      blas_gemm<T>(false, false, m.rows, tiles, v.rows, T(1), u.plane(p), u.cols, v.plane(p), v.cols, T(0),
                   m.plane(p), m.cols);
    });
    transform_output(m, bias, w, chunk, output);
  }
}

}  // namespace

bool winograd_applies(const ConvGeometry& g) {
  const Conv2dParams& p = g.params;
  // Below ~16 channels the GEMMs are too thin to pay for the tile transforms.
  constexpr int64_t kMinChannels = 16;
  return g.kernel_h == 3 && g.kernel_w == 3 && p.stride_h == 1 && p.stride_w == 1 && p.dilation_h == 1 &&
         p.dilation_w == 1 && p.groups == 1 && p.pad_h <= 2 && p.pad_w <= 2 && g.channels >= kMinChannels &&
         g.out_channels >= kMinChannels;
}

template <class T>
void winograd_forward(const T* x, const T* weight, const T* bias, T* out, const ConvGeometry& g,
                      int64_t chunk_bytes) {
  const PositionPlanes<T> u(0, g.out_channels, g.channels);
  transform_weights(weight, g.out_channels, g.channels, false, u);
  winograd_convolve(x, u, bias, out, forward_problem(g), chunk_bytes);
}

template <class T>
void winograd_backward_data(const T* grad_out, const T* weight, T* grad_x, const ConvGeometry& g,
                            int64_t chunk_bytes) {
  const PositionPlanes<T> u(0, g.channels, g.out_channels);
  transform_weights(weight, g.out_channels, g.channels, true, u);
  winograd_convolve(grad_out, u, static_cast<const T*>(nullptr), grad_x, backward_data_problem(g), chunk_bytes);
}

template <class T>
void winograd_backward_filter(const T* grad_out, const T* x, T* grad_weight, const ConvGeometry& g,
                              int64_t chunk_bytes) {
  const WinogradProblem w = forward_problem(g);
  const int64_t total_rows = w.batch * w.tile_rows(), step = chunk_rows<T>(w, chunk_bytes);
  const PositionPlanes<T> du(0, w.out_channels, w.in_channels);
  const PositionPlanes<T> v(1, w.in_channels, step * w.tile_cols()), dm(2, w.out_channels, step * w.tile_cols());
  // dU sums over every tile of the batch: the first chunk overwrites it, the others add (an
  // empty batch still runs one empty chunk, which writes zeros).
  for (int64_t first = 0; first == 0 || first < total_rows; first += step) {
    const TileRowRange chunk{first, std::min(total_rows, first + step)};
    const int64_t tiles = chunk.size() * w.tile_cols();
    transform_tiles<kBT>(x, w.in_channels, w.in_h, w.in_w, w.pad_h, w.pad_w, w, chunk, v);
    transform_tiles<kA>(grad_out, w.out_channels, w.out_h, w.out_w, 0, 0, w, chunk, dm);
    for_each_position(du.rows, du.cols, tiles, [&](int64_t p) {
      blas_gemm<T>(false, true, du.rows, du.cols, tiles, T(1), dm.plane(p), dm.cols, v.plane(p), v.cols,
                   first == 0 ? T(0) : T(1), du.plane(p), du.cols);
    });
  }
  transform_weight_grads(du, grad_weight);
}

template void winograd_forward(const float*, const float*, const float*, float*, const ConvGeometry&, int64_t);
template void winograd_forward(const double*, const double*, const double*, double*, const ConvGeometry&, int64_t);
template void winograd_backward_data(const float*, const float*, float*, const ConvGeometry&, int64_t);
template void winograd_backward_data(const double*, const double*, double*, const ConvGeometry&, int64_t);
template void winograd_backward_filter(const float*, const float*, float*, const ConvGeometry&, int64_t);
template void winograd_backward_filter(const double*, const double*, double*, const ConvGeometry&, int64_t);

}  // namespace maskdet::cpu
