// CUDA box kernels: IoU, the box coder, clipping and (class-aware) non-maximum suppression,
// with the semantics of tensor/cpu/boxes.cpp (contract in tensor/kernels/boxes.h).
//
// NMS follows the bitmask scheme of torchvision's CUDA nms (torchvision/csrc/ops/cuda/
// nms_kernel.cu): boxes are sorted by score, an IoU bitmask is filled in 64 x 64 tiles, and a
// greedy scan of the bitmask picks the kept boxes. Here the sort is CUB's stable radix sort
// and the scan runs in one GPU block (no host copy of the mask); only num_kept comes back to
// the host, which costs one stream synchronisation per call. The whole mask, about n^2 / 8
// bytes, exists at once, so n is capped (tensor/kernels/boxes_checks.h: 92,672 boxes, 1 GiB),
// and the scratch is a tensor from the caching allocator that each call gives back.
#include <cub/device/device_radix_sort.cuh>

#include <climits>

#include "cuda/kernels/rounding.cuh"
#include "cuda/kernels/strided.cuh"
#include "tensor/creation.h"
#include "tensor/kernels/boxes.h"
#include "tensor/kernels/boxes_checks.h"

namespace maskdet::cuda {
namespace {

// std::min / std::max exactly, NaN and signed zeros included.
template <class T>
__device__ T min_of(T a, T b) {
  return b < a ? b : a;
}
template <class T>
__device__ T max_of(T a, T b) {
  return a < b ? b : a;
}

__device__ inline float dev_exp(float x) { return expf(x); }
__device__ inline double dev_exp(double x) { return exp(x); }
__device__ inline float dev_log(float x) { return logf(x); }
__device__ inline double dev_log(double x) { return log(x); }

// a, b: (4) each, (x1, y1, x2, y2). The CPU's iou() with the same operations in the same order,
// rounded one by one (rounding.cuh) as the CPU's are, so NMS decides a box whose IoU sits at
// the threshold the same way on both backends.
template <class T>
__device__ T iou(const T* a, const T* b) {
  const T area_a = mul_rn(sub_rn(a[2], a[0]), sub_rn(a[3], a[1]));
  const T area_b = mul_rn(sub_rn(b[2], b[0]), sub_rn(b[3], b[1]));
  const T iw = max_of(T(0), sub_rn(min_of(a[2], b[2]), max_of(a[0], b[0])));
  const T ih = max_of(T(0), sub_rn(min_of(a[3], b[3]), max_of(a[1], b[1])));
  const T inter = mul_rn(iw, ih);
  const T uni = sub_rn(add_rn(area_a, area_b), inter);
  return uni > T(0) ? div_rn(inter, uni) : T(0);
}

// Grid-stride loop over [0, n).
#define MASKDET_GRID_STRIDE(i, n)                                                       \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

// a: (n, 4), b: (m, 4), out: (n, m).
template <class T>
__global__ void box_iou_kernel(const T* a, const T* b, T* out, int64_t n, int64_t m) {
  MASKDET_GRID_STRIDE(k, n * m) out[k] = iou(a + 4 * (k / m), b + 4 * (k % m));
}

// The four coder weights in the kernel's dtype.
template <class T>
struct CoderWeights {
  T wx, wy, ww, wh;
};

// anchors, boxes, deltas: (n, 4).
template <class T>
__global__ void encode_kernel(const T* anchors, const T* boxes, CoderWeights<T> w, T* deltas, int64_t n) {
  MASKDET_GRID_STRIDE(i, n) {
    const T* ai = anchors + 4 * i;
    const T* bi = boxes + 4 * i;
    const T aw = ai[2] - ai[0], ah = ai[3] - ai[1];
    const T acx = ai[0] + T(0.5) * aw, acy = ai[1] + T(0.5) * ah;
    const T bw = bi[2] - bi[0], bh = bi[3] - bi[1];
    const T bcx = bi[0] + T(0.5) * bw, bcy = bi[1] + T(0.5) * bh;
    deltas[4 * i + 0] = w.wx * (bcx - acx) / aw;
    deltas[4 * i + 1] = w.wy * (bcy - acy) / ah;
    deltas[4 * i + 2] = w.ww * dev_log(bw / aw);
    deltas[4 * i + 3] = w.wh * dev_log(bh / ah);
  }
}

// anchors, deltas, boxes: (n, 4).
template <class T>
__global__ void decode_kernel(const T* anchors, const T* deltas, CoderWeights<T> w, T max_log_scale, T* boxes,
                              int64_t n) {
  MASKDET_GRID_STRIDE(i, n) {
    const T* ai = anchors + 4 * i;
    const T* di = deltas + 4 * i;
    const T aw = ai[2] - ai[0], ah = ai[3] - ai[1];
    const T acx = ai[0] + T(0.5) * aw, acy = ai[1] + T(0.5) * ah;
    const T dx = di[0] / w.wx, dy = di[1] / w.wy;
    const T dw = min_of(di[2] / w.ww, max_log_scale), dh = min_of(di[3] / w.wh, max_log_scale);
    const T cx = dx * aw + acx, cy = dy * ah + acy;
    const T pw = dev_exp(dw) * aw, ph = dev_exp(dh) * ah;
    boxes[4 * i + 0] = cx - T(0.5) * pw;
    boxes[4 * i + 1] = cy - T(0.5) * ph;
    boxes[4 * i + 2] = cx + T(0.5) * pw;
    boxes[4 * i + 3] = cy + T(0.5) * ph;
  }
}

// boxes: (n, 4) viewed as 4 n coordinates; even ones are x, odd ones y.
template <class T>
__global__ void clip_kernel(T* boxes, T height, T width, int64_t coords) {
  MASKDET_GRID_STRIDE(k, coords) {
    const T hi = k % 2 == 0 ? width : height;
    const T v = boxes[k];
    boxes[k] = v < T(0) ? T(0) : (hi < v ? hi : v);  // std::clamp(v, 0, hi)
  }
}

template <class T>
CoderWeights<T> coder_weights(const std::array<double, 4>& w) {
  return {T(w[0]), T(w[1]), T(w[2]), T(w[3])};
}

// ---- NMS ----

using Mask = unsigned long long;  // one bit per box of a 64-box column tile
constexpr int kTile = static_cast<int>(kernels::kCudaNmsTile);
static_assert(sizeof(Mask) * 8 == kTile);
constexpr int kScanThreads = 512;
// The scan keeps one removed-bit word per tile in dynamic shared memory; with its static
// arrays (under 1 KiB) that must fit the 48 KiB a block gets without opting in to more.
static_assert(kernels::kCudaNmsMaxTiles * sizeof(Mask) == 47 * 1024);
static_assert(kernels::cuda_nms_tiles(kernels::cuda_nms_max_boxes()) <= kernels::kCudaNmsMaxTiles);

// order: (n), order[i] = i; the values the radix sort carries along with the scores.
__global__ void iota_kernel(int64_t* order, int64_t n) {
  MASKDET_GRID_STRIDE(i, n) order[i] = i;
}

// One block per (row tile, column tile) with column tile >= row tile, one thread per row.
// Rows and columns are positions in score order. Bit c of mask[r][col_tile] is set when the
// box at position col_tile * 64 + c comes after r, has r's label (when labels are given) and
// overlaps it by IoU > threshold. Words left of the diagonal are never written nor read.
//   boxes: (n, 4) in input order; order: (n) input index of each sorted position;
//   labels: (n) in input order, or null; mask: (n, tiles).
template <class T>
__global__ void __launch_bounds__(kTile) nms_mask_kernel(const T* boxes, const int64_t* order, const int64_t* labels,
                                                         int64_t n, int64_t tiles, T threshold, Mask* mask) {
  const int64_t row_tile = blockIdx.y, col_tile = blockIdx.x;
  if (col_tile < row_tile) return;  // the whole block leaves, before any barrier
  __shared__ T col_boxes[kTile * 4];
  __shared__ int64_t col_labels[kTile];
  const int64_t col_first = col_tile * kTile;
  const int cols = static_cast<int>(min(static_cast<int64_t>(kTile), n - col_first));
  const int tid = threadIdx.x;
  if (tid < cols) {
    const int64_t j = order[col_first + tid];
    for (int k = 0; k < 4; ++k) col_boxes[4 * tid + k] = boxes[4 * j + k];
    col_labels[tid] = labels ? labels[j] : 0;
  }
  __syncthreads();
  const int64_t row = row_tile * kTile + tid;
  if (row >= n) return;
  const int64_t i = order[row];
  const T* box = boxes + 4 * i;
  const int64_t label = labels ? labels[i] : 0;
  Mask bits = 0;
  for (int c = col_tile == row_tile ? tid + 1 : 0; c < cols; ++c) {
    if (col_labels[c] != label) continue;
    // The kept candidate first, as the CPU calls iou(kept, later).
    if (iou(box, col_boxes + 4 * c) > threshold) bits |= Mask(1) << c;
  }
  mask[row * tiles + col_tile] = bits;
}

// The greedy scan, in one block, tile by tile: thread 0 decides the (at most 64) boxes of
// tile t one after the other from the bits earlier kept boxes set and the tile's diagonal
// words; then the whole block ORs the rows of the boxes kept in t into the removed bits of
// every later tile. A box is kept exactly when no earlier kept box set its bit, which is the
// CPU's loop (removed boxes never suppress: their rows are never ORed).
//   mask: (n, tiles) from nms_mask_kernel; order: (n); keep: (n), written in [0, num_kept);
//   num_kept: (1). Dynamic shared memory: tiles words.
__global__ void __launch_bounds__(kScanThreads) nms_scan_kernel(const Mask* mask, const int64_t* order, int64_t n,
                                                                int64_t tiles, int64_t* keep, int64_t* num_kept) {
  extern __shared__ Mask removed[];  // (tiles): bit c of word w = position w * 64 + c is suppressed
  __shared__ Mask diagonal[kTile];
  __shared__ Mask tile_kept;
  __shared__ int kept_rows[kTile];   // rows (0..63) of the boxes kept in the current tile
  const int tid = threadIdx.x;
  for (int64_t w = tid; w < tiles; w += blockDim.x) removed[w] = 0;
  int64_t kept_before = 0;  // boxes kept in earlier tiles; every thread counts the same
  __syncthreads();
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t first = t * kTile;
    const int rows = static_cast<int>(min(static_cast<int64_t>(kTile), n - first));
    if (tid < rows) diagonal[tid] = mask[(first + tid) * tiles + t];
    __syncthreads();
    if (tid == 0) {
      Mask suppressed = removed[t], kept = 0;
      for (int r = 0; r < rows; ++r) {
        if ((suppressed >> r) & 1) continue;
        kept |= Mask(1) << r;
        suppressed |= diagonal[r];  // bits only for rows after r
      }
      tile_kept = kept;
    }
    __syncthreads();
    const Mask kept = tile_kept;
    const int kept_count = __popcll(kept);
    if (tid < rows && ((kept >> tid) & 1)) {
      const int rank = __popcll(kept & ((Mask(1) << tid) - 1));  // kept rows before this one
      keep[kept_before + rank] = order[first + tid];
      kept_rows[rank] = tid;
    }
    __syncthreads();
    const int64_t later = tiles - t - 1;
    for (int64_t p = tid; p < kept_count * later; p += blockDim.x) {
      const int64_t w = t + 1 + p % later;
      atomicOr(&removed[w], mask[(first + kept_rows[p / later]) * tiles + w]);
    }
    kept_before += kept_count;
    __syncthreads();  // removed[] is settled before thread 0 reads it for the next tile
  }
  if (tid == 0) *num_kept = kept_before;
}

constexpr size_t align_up(size_t bytes) { return (bytes + 255) / 256 * 256; }

// Runs NMS on the current stream and returns num_kept. boxes: (n, 4), scores: (n),
// labels: (n) or null, keep: (n).
template <class T>
int64_t nms_on_device(const Tensor& boxes, const Tensor& scores, const int64_t* labels, double iou_threshold,
                      const Tensor& keep, const char* kernel) {
  const int64_t n = boxes.size(0);
  if (n == 0) return 0;
  kernels::check_cuda_nms_box_count(n, kernel);
  static_assert(kernels::cuda_nms_max_boxes() <= INT_MAX);  // CUB's item count is an int below
  const int64_t tiles = kernels::cuda_nms_tiles(n);
  const size_t mask_bytes = static_cast<size_t>(kernels::cuda_nms_mask_bytes(n));

  cudaStream_t stream = current_stream();
  const T* score_ptr = scores.data_ptr<T>();
  size_t sort_bytes = 0;
  CUDA_CHECK(cub::DeviceRadixSort::SortPairsDescending(nullptr, sort_bytes, score_ptr, static_cast<T*>(nullptr),
                                                       static_cast<const int64_t*>(nullptr),
                                                       static_cast<int64_t*>(nullptr), static_cast<int>(n), 0,
                                                       static_cast<int>(sizeof(T) * 8), stream));
  // One scratch block, carved into: sorted scores (n) T, iota (n) and order (n) int64, the
  // mask, num_kept (1) int64 and CUB's scratch.
  const size_t index_bytes = align_up(n * sizeof(int64_t));
  const size_t sizes[] = {align_up(n * sizeof(T)), index_bytes, index_bytes, align_up(mask_bytes),
                          align_up(sizeof(int64_t)), align_up(sort_bytes)};
  size_t total = 0;
  for (size_t s : sizes) total += s;
  // Not the context's workspace(), which only grows: one large call would leave up to a 1 GiB
  // mask held for good. This block goes back to the caching allocator when the call returns
  // (the kernels are done by then: num_kept is waited for), for any allocation to reuse, and
  // empty_cache or the out-of-memory retry to release.
  const Tensor scratch = empty({static_cast<int64_t>(total)}, boxes.options().with_dtype(DType::UInt8));
  char* base = static_cast<char*>(scratch.raw_data());
  char* parts[6];
  for (int k = 0; k < 6; ++k) {
    parts[k] = base;
    base += sizes[k];
  }
  T* sorted_scores = reinterpret_cast<T*>(parts[0]);
  int64_t* iota = reinterpret_cast<int64_t*>(parts[1]);
  int64_t* order = reinterpret_cast<int64_t*>(parts[2]);
  Mask* mask = reinterpret_cast<Mask*>(parts[3]);
  int64_t* d_num_kept = reinterpret_cast<int64_t*>(parts[4]);
  void* sort_scratch = parts[5];

  iota_kernel<<<blocks_for(n), kThreadsPerBlock, 0, stream>>>(iota, n);
  CUDA_CHECK_LAUNCH();
  // Stable, so equal scores keep ascending index order; CUB sorts -0.0 and +0.0 as equal,
  // as the CPU's comparison does (NaN scores have no defined order on either backend).
  CUDA_CHECK(cub::DeviceRadixSort::SortPairsDescending(sort_scratch, sort_bytes, score_ptr, sorted_scores, iota,
                                                       order, static_cast<int>(n), 0,
                                                       static_cast<int>(sizeof(T) * 8), stream));
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(tiles));
  nms_mask_kernel<T><<<grid, kTile, 0, stream>>>(boxes.data_ptr<T>(), order, labels, n, tiles,
                                                 static_cast<T>(iou_threshold), mask);
  CUDA_CHECK_LAUNCH();
  nms_scan_kernel<<<1, kScanThreads, tiles * sizeof(Mask), stream>>>(mask, order, n, tiles,
                                                                     keep.data_ptr<int64_t>(), d_num_kept);
  CUDA_CHECK_LAUNCH();
  int64_t num_kept = 0;
  CUDA_CHECK(cudaMemcpyAsync(&num_kept, d_num_kept, sizeof(int64_t), cudaMemcpyDeviceToHost, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  return num_kept;
}

}  // namespace

void box_iou(const Tensor& a, const Tensor& b, const Tensor& out) {
  kernels::check_box_iou_args(a, b, out, Backend::Cuda);
  // The tensors' GPU must be current: the stream and the kernels belong to it.
  DeviceGuard guard(out.device().index);
  dispatch_floating(out.dtype(), "box_iou", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = a.size(0), m = b.size(0);
    if (n * m == 0) return;
    box_iou_kernel<T><<<blocks_for(n * m), kThreadsPerBlock, 0, current_stream()>>>(
        a.data_ptr<T>(), b.data_ptr<T>(), out.data_ptr<T>(), n, m);
    CUDA_CHECK_LAUNCH();
  });
}

void encode_boxes(const Tensor& anchors, const Tensor& boxes, std::array<double, 4> weights, const Tensor& deltas) {
  kernels::check_box_coder_args("encode_boxes", anchors, "anchors", boxes, "boxes", deltas, "deltas", Backend::Cuda);
  DeviceGuard guard(deltas.device().index);
  dispatch_floating(deltas.dtype(), "encode_boxes", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = deltas.size(0);
    if (n == 0) return;
    encode_kernel<T><<<blocks_for(n), kThreadsPerBlock, 0, current_stream()>>>(
        anchors.data_ptr<T>(), boxes.data_ptr<T>(), coder_weights<T>(weights), deltas.data_ptr<T>(), n);
    CUDA_CHECK_LAUNCH();
  });
}

void decode_boxes(const Tensor& anchors, const Tensor& deltas, std::array<double, 4> weights, double max_log_scale,
                  const Tensor& boxes) {
  kernels::check_box_coder_args("decode_boxes", anchors, "anchors", deltas, "deltas", boxes, "boxes", Backend::Cuda);
  DeviceGuard guard(boxes.device().index);
  dispatch_floating(boxes.dtype(), "decode_boxes", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = boxes.size(0);
    if (n == 0) return;
    decode_kernel<T><<<blocks_for(n), kThreadsPerBlock, 0, current_stream()>>>(
        anchors.data_ptr<T>(), deltas.data_ptr<T>(), coder_weights<T>(weights), T(max_log_scale),
        boxes.data_ptr<T>(), n);
    CUDA_CHECK_LAUNCH();
  });
}

void clip_boxes(const Tensor& boxes, double height, double width) {
  kernels::check_clip_boxes_args(boxes, Backend::Cuda);
  DeviceGuard guard(boxes.device().index);
  dispatch_floating(boxes.dtype(), "clip_boxes", [&](auto zero) {
    using T = decltype(zero);
    const int64_t coords = boxes.numel();
    if (coords == 0) return;
    clip_kernel<T><<<blocks_for(coords), kThreadsPerBlock, 0, current_stream()>>>(boxes.data_ptr<T>(), T(height),
                                                                                  T(width), coords);
    CUDA_CHECK_LAUNCH();
  });
}

void nms(const Tensor& boxes, const Tensor& scores, double iou_threshold, const Tensor& keep, int64_t& num_kept) {
  kernels::check_nms_args(boxes, scores, keep, "nms", Backend::Cuda);
  DeviceGuard guard(boxes.device().index);
  dispatch_floating(boxes.dtype(), "nms", [&](auto zero) {
    using T = decltype(zero);
    num_kept = nms_on_device<T>(boxes, scores, nullptr, iou_threshold, keep, "nms");
  });
}

// Class-aware through the mask (a box sets bits only for boxes of its own label) rather than
// torchvision's per-label coordinate offsets: shifted coordinates round differently, so only
// the mask gives the CPU's decisions bit for bit.
void batched_nms(const Tensor& boxes, const Tensor& scores, const Tensor& labels, double iou_threshold,
                 const Tensor& keep, int64_t& num_kept) {
  kernels::check_batched_nms_args(boxes, scores, labels, keep, Backend::Cuda);
  DeviceGuard guard(boxes.device().index);
  dispatch_floating(boxes.dtype(), "batched_nms", [&](auto zero) {
    using T = decltype(zero);
    num_kept = nms_on_device<T>(boxes, scores, labels.data_ptr<int64_t>(), iou_threshold, keep, "batched_nms");
  });
}

}  // namespace maskdet::cuda
