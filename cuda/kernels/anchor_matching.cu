// CUDA anchor matching and loss targets, with the semantics of tensor/cpu/anchor_matching.cpp
// (contract in tensor/kernels/anchor_matching.h). Matching takes two launches: one block per box
// finds the box's highest IoU over all anchors (for the low-quality rule), then one thread per
// anchor scans the M boxes of its column. M is a handful of faces per image, so the column scan
// is short; A (tens of thousands of anchors) spreads over the grid. Matching sends nothing back
// to the host. anchor_targets reads box indices and labels from tensor data, so it checks them on
// the device as the CPU does (cuda/kernels/bad_position.cuh): an anchor whose match or label is
// out of range is skipped and flagged, and the host, reading the flag back (one stream
// synchronisation per call), raises the CPU's error for the first such anchor.
#include "cuda/kernels/bad_position.cuh"
#include "cuda/kernels/strided.cuh"
#include "tensor/creation.h"
#include "tensor/kernels/anchor_matching.h"
#include "tensor/kernels/anchor_matching_checks.h"

namespace maskdet::cuda {
namespace {

template <class T>
struct MaxOp {
  __device__ T operator()(T x, T y) const { return x < y ? y : x; }
};

// One block per box: highest[b] = max(0, max over anchors of iou[b][a]), as the CPU's
// std::max(T(0), max_element(row)). iou: (m, n); highest: (m).
template <class T>
__global__ void box_highest_iou_kernel(const T* iou, int64_t n, T* highest) {
  __shared__ T values[kThreadsPerBlock];
  const T* row = iou + blockIdx.x * n;
  T acc = T(0);
  for (int64_t a = threadIdx.x; a < n; a += kThreadsPerBlock) acc = MaxOp<T>{}(acc, row[a]);
  values[threadIdx.x] = acc;
  block_tree_reduce(values, MaxOp<T>{});
  if (threadIdx.x == 0) highest[blockIdx.x] = values[0];
}

// One thread per anchor. iou: (m, n); highest: (m), or null without the low-quality rule;
// matches: (n).
template <class T>
__global__ void match_kernel(const T* iou, const T* highest, int64_t m, int64_t n, double fg_threshold,
                             double bg_threshold, int64_t* matches) {
  for (int64_t a = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; a < n;
       a += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    if (m == 0) {
      matches[a] = kMatchBackground;
      continue;
    }
    T best = iou[a];
    int64_t best_box = 0;
    for (int64_t b = 1; b < m; ++b) {
      const T q = iou[b * n + a];
      if (q > best) {  // strict: the first box wins ties, as argmax does
        best = q;
        best_box = b;
      }
    }
    int64_t match = kMatchBackground;
    if (static_cast<double>(best) >= fg_threshold) match = best_box;
    else if (static_cast<double>(best) >= bg_threshold) match = kMatchIgnore;
    if (highest != nullptr)
      for (int64_t b = 0; b < m; ++b)
        if (highest[b] > T(0) && iou[b * n + a] == highest[b]) match = best_box;
    matches[a] = match;
  }
}

// One thread per anchor. matches: (n); labels: (m); boxes: (m, 4); anchors, matched: (n, 4);
// cls: (n, k); weight, fg: (n). An anchor matched outside [kMatchIgnore, m), or to a box whose
// label is outside [0, k), is flagged in first_bad and left unwritten: a bad box index would
// read an illegal address, and a bad label names no class column.
template <class T>
__global__ void anchor_targets_kernel(const int64_t* matches, const int64_t* labels, const T* boxes,
                                      const T* anchors, int64_t n, int64_t m, int64_t k, T* cls, T* weight, T* fg,
                                      T* matched, unsigned long long* first_bad) {
  for (int64_t a = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; a < n;
       a += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t b = matches[a];
    if (b < kMatchIgnore || b >= m || (b >= 0 && (labels[b] < 0 || labels[b] >= k))) {
      flag_bad_position(first_bad, a);
      continue;
    }
    weight[a] = b == kMatchIgnore ? T(0) : T(1);
    fg[a] = b >= 0 ? T(1) : T(0);
    const T* source = b >= 0 ? boxes + 4 * b : anchors + 4 * a;
    for (int c = 0; c < 4; ++c) matched[4 * a + c] = source[c];
    const int64_t label = b >= 0 ? labels[b] : -1;
    for (int64_t j = 0; j < k; ++j) cls[a * k + j] = j == label ? T(1) : T(0);
  }
}

}  // namespace

void match_anchors(const Tensor& iou, double fg_threshold, double bg_threshold, bool allow_low_quality,
                   const Tensor& matches) {
  kernels::check_match_anchors_args(iou, fg_threshold, bg_threshold, matches, Backend::Cuda);
  // The tensors' GPU must be current: the stream, the scratch and the kernels belong to it.
  DeviceGuard guard(matches.device().index);
  dispatch_floating(iou.dtype(), "match_anchors", [&](auto zero) {
    using T = decltype(zero);
    const int64_t m = iou.size(0), n = iou.size(1);
    if (n == 0) return;
    const cudaStream_t stream = current_stream();
    Tensor highest;  // (m): each box's best IoU; freed to the caching allocator in stream order
    if (allow_low_quality && m > 0) {
      highest = empty({m}, iou.options());
      box_highest_iou_kernel<T><<<static_cast<unsigned>(m), kThreadsPerBlock, 0, stream>>>(iou.data_ptr<T>(), n,
                                                                                          highest.data_ptr<T>());
      CUDA_CHECK_LAUNCH();
    }
    match_kernel<T><<<blocks_for(n), kThreadsPerBlock, 0, stream>>>(
        iou.data_ptr<T>(), highest.defined() ? highest.data_ptr<T>() : nullptr, m, n, fg_threshold, bg_threshold,
        matches.data_ptr<int64_t>());
    CUDA_CHECK_LAUNCH();
  });
}

void anchor_targets(const Tensor& matches, const Tensor& labels, const Tensor& boxes, const Tensor& anchors,
                    const Tensor& class_targets, const Tensor& anchor_weights, const Tensor& foreground,
                    const Tensor& matched_boxes) {
  kernels::check_anchor_targets_args(matches, labels, boxes, anchors, class_targets, anchor_weights, foreground,
                                     matched_boxes, Backend::Cuda);
  const int64_t n = matches.size(0), m = boxes.size(0), k = class_targets.size(1);
  if (n == 0) return;
  DeviceGuard guard(matches.device().index);
  const BadPositionFlag first_bad(matches.device());
  dispatch_floating(anchors.dtype(), "anchor_targets", [&](auto zero) {
    using T = decltype(zero);
    anchor_targets_kernel<T><<<blocks_for(n), kThreadsPerBlock, 0, current_stream()>>>(
        matches.data_ptr<int64_t>(), labels.numel() ? labels.data_ptr<int64_t>() : nullptr,
        boxes.numel() ? boxes.data_ptr<T>() : nullptr, anchors.data_ptr<T>(), n, m, k, class_targets.data_ptr<T>(),
        anchor_weights.data_ptr<T>(), foreground.data_ptr<T>(), matched_boxes.data_ptr<T>(), first_bad.get());
    CUDA_CHECK_LAUNCH();
  });
  const int64_t a = first_bad.read();
  if (a < 0) return;
  // The CPU's error for anchor a, from its match and, when that is a box, the box's label.
  int64_t b = 0;
  maskdet::cuda::memcpy(&b, matches.data_ptr<int64_t>() + a, sizeof b, CopyKind::DeviceToHost);
  kernels::check_anchor_match(a, b, m);
  if (b >= 0) {
    int64_t label = 0;
    maskdet::cuda::memcpy(&label, labels.data_ptr<int64_t>() + b, sizeof label, CopyKind::DeviceToHost);
    kernels::check_box_label(label, b, k);
  }
  // Unreachable while the kernel and the two checks agree.
  MASKDET_FAIL("anchor_targets: anchor ", a, " was flagged on the device, but its match and label are in range");
}

}  // namespace maskdet::cuda
