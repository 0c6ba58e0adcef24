// CPU box kernels: IoU, box coder, clipping, NMS.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "tensor/cpu/parallel.h"
#include "tensor/kernels/boxes.h"
#include "tensor/kernels/boxes_checks.h"

namespace maskdet::cpu {

namespace {

using kernels::Backend;

template <class T>
T iou(const T* a, const T* b) {
  const T area_a = (a[2] - a[0]) * (a[3] - a[1]);
  const T area_b = (b[2] - b[0]) * (b[3] - b[1]);
  const T iw = std::max(T(0), std::min(a[2], b[2]) - std::max(a[0], b[0]));
  const T ih = std::max(T(0), std::min(a[3], b[3]) - std::max(a[1], b[1]));
  const T inter = iw * ih;
  const T uni = area_a + area_b - inter;
  return uni > T(0) ? inter / uni : T(0);
}

// Indices sorted by descending score, ties by ascending index (deterministic).
template <class T>
std::vector<int64_t> order_by_score(const T* scores, int64_t n) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) { return scores[i] > scores[j]; });
  return order;
}

template <class T>
int64_t greedy_nms(const T* boxes, const T* scores, const int64_t* labels, int64_t n, double threshold,
                   int64_t* keep) {
  const std::vector<int64_t> order = order_by_score(scores, n);
  std::vector<char> removed(n, 0);
  int64_t kept = 0;
  for (int64_t oi = 0; oi < n; ++oi) {
    const int64_t i = order[oi];
    if (removed[i]) continue;
    keep[kept++] = i;
    for (int64_t oj = oi + 1; oj < n; ++oj) {
      const int64_t j = order[oj];
      if (removed[j] || (labels && labels[j] != labels[i])) continue;
      if (iou(boxes + 4 * i, boxes + 4 * j) > T(threshold)) removed[j] = 1;
    }
  }
  return kept;
}

}  // namespace

void box_iou(const Tensor& a, const Tensor& b, const Tensor& out) {
  kernels::check_box_iou_args(a, b, out, Backend::Cpu);
  dispatch_floating(a.dtype(), "box_iou", [&](auto zero) {
    using T = decltype(zero);
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    T* op = out.data_ptr<T>();
    const int64_t m = b.size(0);
    parallel_for(a.size(0), std::max<int64_t>(1, 4096 / std::max<int64_t>(m, 1)), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        for (int64_t j = 0; j < m; ++j) op[i * m + j] = iou(ap + 4 * i, bp + 4 * j);
    });
  });
}

void encode_boxes(const Tensor& anchors, const Tensor& boxes, std::array<double, 4> w, const Tensor& deltas) {
  kernels::check_box_coder_args("encode_boxes", anchors, "anchors", boxes, "boxes", deltas, "deltas", Backend::Cpu);
  dispatch_floating(anchors.dtype(), "encode_boxes", [&](auto zero) {
    using T = decltype(zero);
    const T* a = anchors.data_ptr<T>();
    const T* b = boxes.data_ptr<T>();
    T* d = deltas.data_ptr<T>();
    parallel_for(anchors.size(0), 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const T* ai = a + 4 * i;
        const T* bi = b + 4 * i;
        const T aw = ai[2] - ai[0], ah = ai[3] - ai[1];
        const T acx = ai[0] + T(0.5) * aw, acy = ai[1] + T(0.5) * ah;
        const T bw = bi[2] - bi[0], bh = bi[3] - bi[1];
        const T bcx = bi[0] + T(0.5) * bw, bcy = bi[1] + T(0.5) * bh;
        d[4 * i + 0] = T(w[0]) * (bcx - acx) / aw;
        d[4 * i + 1] = T(w[1]) * (bcy - acy) / ah;
        d[4 * i + 2] = T(w[2]) * std::log(bw / aw);
        d[4 * i + 3] = T(w[3]) * std::log(bh / ah);
      }
    });
  });
}

void decode_boxes(const Tensor& anchors, const Tensor& deltas, std::array<double, 4> w, double max_log_scale,
                  const Tensor& boxes) {
  kernels::check_box_coder_args("decode_boxes", anchors, "anchors", deltas, "deltas", boxes, "boxes", Backend::Cpu);
  dispatch_floating(anchors.dtype(), "decode_boxes", [&](auto zero) {
    using T = decltype(zero);
    const T* a = anchors.data_ptr<T>();
    const T* d = deltas.data_ptr<T>();
    T* b = boxes.data_ptr<T>();
    parallel_for(anchors.size(0), 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const T* ai = a + 4 * i;
        const T* di = d + 4 * i;
        const T aw = ai[2] - ai[0], ah = ai[3] - ai[1];
        const T acx = ai[0] + T(0.5) * aw, acy = ai[1] + T(0.5) * ah;
        const T dx = di[0] / T(w[0]), dy = di[1] / T(w[1]);
        const T dw = std::min(di[2] / T(w[2]), T(max_log_scale)), dh = std::min(di[3] / T(w[3]), T(max_log_scale));
        const T cx = dx * aw + acx, cy = dy * ah + acy;
        const T pw = std::exp(dw) * aw, ph = std::exp(dh) * ah;
        b[4 * i + 0] = cx - T(0.5) * pw;
        b[4 * i + 1] = cy - T(0.5) * ph;
        b[4 * i + 2] = cx + T(0.5) * pw;
        b[4 * i + 3] = cy + T(0.5) * ph;
      }
    });
  });
}

void clip_boxes(const Tensor& boxes, double height, double width) {
  kernels::check_clip_boxes_args(boxes, Backend::Cpu);
  dispatch_floating(boxes.dtype(), "clip_boxes", [&](auto zero) {
    using T = decltype(zero);
    T* b = boxes.data_ptr<T>();
    for (int64_t i = 0, n = boxes.size(0); i < n; ++i) {
      for (int k = 0; k < 4; ++k) {
        const T hi = T(k % 2 == 0 ? width : height);
        b[4 * i + k] = std::clamp(b[4 * i + k], T(0), hi);
      }
    }
  });
}

void nms(const Tensor& boxes, const Tensor& scores, double iou_threshold, const Tensor& keep, int64_t& num_kept) {
  kernels::check_nms_args(boxes, scores, keep, "nms", Backend::Cpu);
  dispatch_floating(boxes.dtype(), "nms", [&](auto zero) {
    using T = decltype(zero);
    num_kept = greedy_nms(boxes.data_ptr<T>(), scores.data_ptr<T>(), static_cast<const int64_t*>(nullptr),
                          boxes.size(0), iou_threshold, keep.data_ptr<int64_t>());
  });
}

void batched_nms(const Tensor& boxes, const Tensor& scores, const Tensor& labels, double iou_threshold,
                 const Tensor& keep, int64_t& num_kept) {
  kernels::check_batched_nms_args(boxes, scores, labels, keep, Backend::Cpu);
  dispatch_floating(boxes.dtype(), "batched_nms", [&](auto zero) {
    using T = decltype(zero);
    num_kept = greedy_nms(boxes.data_ptr<T>(), scores.data_ptr<T>(), labels.data_ptr<int64_t>(), boxes.size(0),
                          iou_threshold, keep.data_ptr<int64_t>());
  });
}

}  // namespace maskdet::cpu
