// CPU anchor matching and loss targets (contract in tensor/kernels/anchor_matching.h).
#include <algorithm>
#include <vector>

#include "tensor/kernels/anchor_matching.h"
#include "tensor/kernels/anchor_matching_checks.h"

namespace maskdet::cpu {

namespace {

using kernels::Backend;

// iou: (m, n) row-major; matches: (n).
template <class T>
void match(const T* iou, int64_t m, int64_t n, double fg_threshold, double bg_threshold, bool allow_low_quality,
           int64_t* matches) {
  std::fill(matches, matches + n, kMatchBackground);
  if (m == 0) return;
  // Box-major loops read the matrix in order; each anchor keeps its running best.
  std::vector<T> best(iou, iou + n);
  std::vector<int64_t> best_box(n, 0);
  for (int64_t b = 1; b < m; ++b)
    for (int64_t a = 0; a < n; ++a)
      if (iou[b * n + a] > best[a]) {  // strict: the first box wins ties, as argmax does
        best[a] = iou[b * n + a];
        best_box[a] = b;
      }
  for (int64_t a = 0; a < n; ++a) {
    const double q = static_cast<double>(best[a]);
    if (q >= fg_threshold) matches[a] = best_box[a];
    else if (q >= bg_threshold) matches[a] = kMatchIgnore;
  }
  if (!allow_low_quality) return;
  for (int64_t b = 0; b < m; ++b) {
    const T* row = iou + b * n;
    const T highest = std::max(T(0), *std::max_element(row, row + n));
    if (!(highest > T(0))) continue;  // a box no anchor touches cannot be matched
    for (int64_t a = 0; a < n; ++a)
      if (row[a] == highest) matches[a] = best_box[a];
  }
}

}  // namespace

void match_anchors(const Tensor& iou, double fg_threshold, double bg_threshold, bool allow_low_quality,
                   const Tensor& matches) {
  kernels::check_match_anchors_args(iou, fg_threshold, bg_threshold, matches, Backend::Cpu);
  dispatch_floating(iou.dtype(), "match_anchors", [&](auto zero) {
    using T = decltype(zero);
    match(iou.data_ptr<T>(), iou.size(0), iou.size(1), fg_threshold, bg_threshold, allow_low_quality,
          matches.data_ptr<int64_t>());
  });
}

void anchor_targets(const Tensor& matches, const Tensor& labels, const Tensor& boxes, const Tensor& anchors,
                    const Tensor& class_targets, const Tensor& anchor_weights, const Tensor& foreground,
                    const Tensor& matched_boxes) {
  kernels::check_anchor_targets_args(matches, labels, boxes, anchors, class_targets, anchor_weights, foreground,
                                     matched_boxes, Backend::Cpu);
  dispatch_floating(anchors.dtype(), "anchor_targets", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = matches.size(0), m = boxes.size(0), k = class_targets.size(1);
    const int64_t* match = matches.data_ptr<int64_t>();
    const int64_t* label = labels.data_ptr<int64_t>();
    const T* box = boxes.data_ptr<T>();
    const T* anchor = anchors.data_ptr<T>();
    T* cls = class_targets.data_ptr<T>();
    T* weight = anchor_weights.data_ptr<T>();
    T* fg = foreground.data_ptr<T>();
    T* matched = matched_boxes.data_ptr<T>();
    std::fill(cls, cls + n * k, T(0));
    for (int64_t a = 0; a < n; ++a) {
      const int64_t b = match[a];
      kernels::check_anchor_match(a, b, m);
      weight[a] = b == kMatchIgnore ? T(0) : T(1);
      fg[a] = b >= 0 ? T(1) : T(0);
      const T* source = b >= 0 ? box + 4 * b : anchor + 4 * a;
      std::copy(source, source + 4, matched + 4 * a);
      if (b < 0) continue;
      kernels::check_box_label(label[b], b, k);
      cls[a * k + label[b]] = T(1);
    }
  });
}

}  // namespace maskdet::cpu
