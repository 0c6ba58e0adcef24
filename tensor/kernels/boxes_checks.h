// The argument checks of the box kernels (tensor/kernels/boxes.h), for both backends
// (tensor/kernels/kernel_checks.h says how they share them). The CUDA kernels check devices, and
// the box and coder kernels the operands' dtypes, after the shapes. Last, the CUDA NMS's limit on
// the box count, host code kept here so that the CPU tests can check it.
#pragma once
#include <cstdint>

#include "tensor/kernels/kernel_checks.h"

namespace maskdet::kernels {

// t is a contiguous (N, 4) box tensor.
inline void check_boxes(const Tensor& t, const char* kernel, const char* what) {
  MASKDET_CHECK(t.dim() == 2 && t.size(1) == 4, kernel, ": ", what, " must be (N, 4), got ", shape_str(t.shape()));
  MASKDET_CHECK(t.is_contiguous(), kernel, ": ", what, " must be contiguous");
}

// CUDA: `ref` is on a CUDA device, and `t` on it with ref's dtype. The CPU kernels leave a dtype
// mismatch to data_ptr's check.
inline void check_like_boxes(const Tensor& t, const Tensor& ref, const char* kernel, const char* what,
                             const char* ref_name, Backend backend) {
  if (backend != Backend::Cuda) return;
  MASKDET_CHECK(ref.is_cuda(), kernel, ": the CUDA kernel got ", ref_name, " on ", ref.device().str());
  check_on_device(t, ref.device(), kernel, what);
  MASKDET_CHECK(t.dtype() == ref.dtype(), kernel, ": ", what, " is ", dtype_name(t.dtype()), ", ", ref_name, " ",
                dtype_name(ref.dtype()));
}

// a: (N, 4), b: (M, 4), out: (N, M).
inline void check_box_iou_args(const Tensor& a, const Tensor& b, const Tensor& out, Backend backend) {
  check_boxes(a, "box_iou", "a");
  check_boxes(b, "box_iou", "b");
  MASKDET_CHECK(out.shape() == (Shape{a.size(0), b.size(0)}) && out.is_contiguous(), "box_iou: out has shape ",
                shape_str(out.shape()), ", expected (", a.size(0), ", ", b.size(0), ")");
  check_like_boxes(a, out, "box_iou", "a", "out", backend);
  check_like_boxes(b, out, "box_iou", "b", "out", backend);
}

// The box coder's three (N, 4) buffers, two inputs and the output, named as the kernel names
// them (encode_boxes: anchors, boxes -> deltas; decode_boxes: anchors, deltas -> boxes).
inline void check_box_coder_args(const char* kernel, const Tensor& first, const char* first_name,
                                 const Tensor& second, const char* second_name, const Tensor& out,
                                 const char* out_name, Backend backend) {
  check_boxes(first, kernel, first_name);
  check_boxes(second, kernel, second_name);
  check_boxes(out, kernel, out_name);
  MASKDET_CHECK(first.size(0) == second.size(0) && second.size(0) == out.size(0), kernel, ": ", first.size(0), " ",
                first_name, ", ", second.size(0), " ", second_name, ", ", out.size(0), " ", out_name);
  check_like_boxes(first, out, kernel, first_name, out_name, backend);
  check_like_boxes(second, out, kernel, second_name, out_name, backend);
}

inline void check_clip_boxes_args(const Tensor& boxes, Backend backend) {
  check_boxes(boxes, "clip_boxes", "boxes");
  if (backend == Backend::Cuda)
    MASKDET_CHECK(boxes.is_cuda(), "clip_boxes: the CUDA kernel got boxes on ", boxes.device().str());
}

// boxes: (N, 4); scores: (N), boxes' dtype; keep: (N) int64.
inline void check_nms_args(const Tensor& boxes, const Tensor& scores, const Tensor& keep, const char* kernel,
                           Backend backend) {
  check_boxes(boxes, kernel, "boxes");
  MASKDET_CHECK(scores.shape() == Shape{boxes.size(0)} && scores.is_contiguous(), kernel, ": scores has shape ",
                shape_str(scores.shape()), " for ", boxes.size(0), " boxes");
  MASKDET_CHECK(scores.dtype() == boxes.dtype(), kernel, ": scores are ", dtype_name(scores.dtype()), ", boxes ",
                dtype_name(boxes.dtype()));
  MASKDET_CHECK(keep.shape() == Shape{boxes.size(0)} && keep.dtype() == DType::Int64 && keep.is_contiguous(), kernel,
                ": keep must be a contiguous int64 (", boxes.size(0), ") tensor, got ", dtype_name(keep.dtype()), " ",
                shape_str(keep.shape()));
  if (backend == Backend::Cuda) {
    MASKDET_CHECK(boxes.is_cuda(), kernel, ": the CUDA kernel got boxes on ", boxes.device().str());
    check_on_device(scores, boxes.device(), kernel, "scores");
    check_on_device(keep, boxes.device(), kernel, "keep");
  }
}

// nms's operands, and labels: (N) int64.
inline void check_batched_nms_args(const Tensor& boxes, const Tensor& scores, const Tensor& labels,
                                   const Tensor& keep, Backend backend) {
  check_nms_args(boxes, scores, keep, "batched_nms", backend);
  MASKDET_CHECK(labels.shape() == Shape{boxes.size(0)} && labels.dtype() == DType::Int64 && labels.is_contiguous(),
                "batched_nms: labels must be a contiguous int64 (", boxes.size(0), ") tensor, got ",
                dtype_name(labels.dtype()), " ", shape_str(labels.shape()));
  check_device(labels, boxes.device(), "batched_nms", "labels", backend);
}

// ---- the CUDA NMS's box limit (cuda/kernels/boxes.cu) ----
// The CUDA NMS fills its whole IoU bitmask before the scan: one 64-bit word per box and 64-box
// column tile, n * ceil(n / 64) * 8 bytes (about n^2 / 8), and the scan keeps one word per tile
// in 47 KiB of shared memory. The shared memory alone would allow 385,024 boxes, whose mask takes
// 17 GiB; the mask is capped at 1 GiB instead, 92,672 boxes. RetinaNet's post-processing hands it
// at most 1000 candidates per level by default (5000 boxes, a 3 MB mask).
constexpr int64_t kCudaNmsTile = 64;                        // boxes per mask word
constexpr int64_t kCudaNmsMaxTiles = 47 * 1024 / 8;         // words the scan's shared memory holds
constexpr int64_t kCudaNmsMaxMaskBytes = int64_t{1} << 30;  // 1 GiB

constexpr int64_t cuda_nms_tiles(int64_t n) { return (n + kCudaNmsTile - 1) / kCudaNmsTile; }
// For n up to the limit below (larger n could overflow).
constexpr int64_t cuda_nms_mask_bytes(int64_t n) { return n * cuda_nms_tiles(n) * 8; }

// The largest n whose mask fits kCudaNmsMaxMaskBytes and whose tiles fit the scan (a binary
// search: the mask grows with n).
constexpr int64_t cuda_nms_max_boxes() {
  int64_t lo = 0, hi = kCudaNmsMaxTiles * kCudaNmsTile;
  while (lo < hi) {
    const int64_t mid = hi - (hi - lo) / 2;
    if (cuda_nms_mask_bytes(mid) <= kCudaNmsMaxMaskBytes) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

inline void check_cuda_nms_box_count(int64_t n, const char* kernel) {
  constexpr int64_t max_boxes = cuda_nms_max_boxes();
  // In double: n * tiles overflows int64 for n past about 2^34.
  const double mask_gib = static_cast<double>(n) * static_cast<double>(cuda_nms_tiles(n)) * 8 / (1 << 30);
  MASKDET_CHECK(n <= max_boxes, kernel, ": the CUDA kernel handles at most ", max_boxes,
                " boxes (its IoU bitmask of n * ceil(n / 64) 64-bit words is capped at 1 GiB), got ", n,
                ", whose mask would take ", mask_gib, " GiB; keep fewer candidates or run NMS on the CPU");
}

}  // namespace maskdet::kernels
