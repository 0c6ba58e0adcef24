// CPU-vs-CUDA tests of the anchor-matching kernels (tensor/kernels/anchor_matching.h):
// match_anchors on IoU matrices of random boxes against a real anchor grid (thresholds,
// low-quality matches, ties between boxes and between anchors, one box, no boxes, one anchor
// column past a block's 256 threads), and anchor_targets on those matches. Both compare exactly:
// the kernels only compare and copy values. anchor_targets given a match or a label out of range
// raises the CPU's error, naming the same anchor, and leaves the GPU usable.
#include <string>
#include <vector>

#include "detection_gpu_util.h"
#include "retinanet/anchors.h"
#include "tensor/kernels/anchor_matching.h"
#include "tensor/kernels/boxes.h"

namespace maskdet::test {
namespace {

const DType kDtypes[] = {DType::Float32, DType::Float64};

// iou: (M, A) on the host -> matches from both backends, as host vectors.
std::pair<std::vector<int64_t>, std::vector<int64_t>> matches_both(const Tensor& iou, bool low_quality) {
  const int64_t a = iou.size(1);
  Tensor cpu_matches = empty({a}, {DType::Int64});
  cpu::match_anchors(iou, 0.5, 0.4, low_quality, cpu_matches);
  Tensor gpu_matches = on_gpu(full({a}, -7.0, {DType::Int64}));
  cuda::match_anchors(on_gpu(iou), 0.5, 0.4, low_quality, gpu_matches);
  return {cpu_matches.to_vector<int64_t>(), synced_to_host(gpu_matches).to_vector<int64_t>()};
}

// The anchors of a 128x160 image (P3-P7, 9 per cell: 3780 anchors).
Tensor grid_anchors(DType dtype) {
  return generate_anchors(AnchorConfig::retinanet(), 128, 160, {{16, 20}, {8, 10}, {4, 5}, {2, 3}, {1, 2}}).to(dtype);
}

Tensor iou_of(const Tensor& boxes, const Tensor& anchors) {
  Tensor iou = empty({boxes.size(0), anchors.size(0)}, {anchors.dtype()});
  cpu::box_iou(boxes, anchors, iou);
  return iou;
}

TEST(MatchAnchorsCuda, MatchesCpuOnRandomBoxes) {
  MASKDET_REQUIRE_GPU();
  Generator gen(11);
  for (DType dtype : kDtypes) {
    const Tensor anchors = grid_anchors(dtype);
    for (int64_t m : {0, 1, 2, 7, 40}) {
      for (bool low_quality : {true, false}) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " boxes " + std::to_string(m) + " low quality " +
                     std::to_string(low_quality));
        const Tensor boxes = boxes_tensor(random_boxes(m, gen, 140, 4, 90), dtype);
        const auto [cpu_matches, gpu_matches] = matches_both(iou_of(boxes, anchors), low_quality);
        EXPECT_EQ(gpu_matches, cpu_matches);
      }
    }
  }
}

TEST(MatchAnchorsCuda, TiesAndDuplicateBoxes) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : kDtypes) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor anchors = grid_anchors(dtype);
    // A box twice (every anchor ties between 0 and 1: the first wins), a box equal to an anchor,
    // and a tiny box whose best IoU is far below the thresholds but shared by several anchors.
    const Tensor boxes = boxes_tensor({20, 20, 60, 70, 20, 20, 60, 70, -16, -16, 16, 16, 100, 50, 101, 51}, dtype);
    const auto [cpu_matches, gpu_matches] = matches_both(iou_of(boxes, anchors), true);
    EXPECT_EQ(gpu_matches, cpu_matches);
    int64_t second_box = 0;
    for (int64_t v : cpu_matches) second_box += v == 1;
    EXPECT_EQ(second_box, 0) << "the duplicate box must lose every tie";
  }
}

TEST(AnchorTargetsCuda, MatchesCpu) {
  MASKDET_REQUIRE_GPU();
  Generator gen(12);
  for (DType dtype : kDtypes) {
    const Tensor anchors = grid_anchors(dtype);
    for (int64_t m : {0, 3, 25}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " boxes " + std::to_string(m));
      const Tensor boxes = boxes_tensor(random_boxes(m, gen, 140, 4, 90), dtype);
      std::vector<int64_t> label_values;
      for (int64_t b = 0; b < m; ++b) label_values.push_back(static_cast<int64_t>(gen.next_u64() % 3));
      const Tensor labels = from_vector(label_values, {m}, {DType::Int64});
      const int64_t a = anchors.size(0), k = 3;
      Tensor matches = empty({a}, {DType::Int64});
      cpu::match_anchors(iou_of(boxes, anchors), 0.5, 0.4, true, matches);

      const Shape shapes[] = {{a, k}, {a}, {a}, {a, 4}};
      std::vector<Tensor> cpu_out, gpu_out;
      for (const Shape& shape : shapes) {
        cpu_out.push_back(full(shape, 7.0, {dtype}));
        gpu_out.push_back(on_gpu(full(shape, 7.0, {dtype})));
      }
      cpu::anchor_targets(matches, labels, boxes, anchors, cpu_out[0], cpu_out[1], cpu_out[2], cpu_out[3]);
      cuda::anchor_targets(on_gpu(matches), on_gpu(labels), on_gpu(boxes), on_gpu(anchors), gpu_out[0], gpu_out[1],
                           gpu_out[2], gpu_out[3]);
      for (size_t i = 0; i < cpu_out.size(); ++i)
        EXPECT_TRUE(tensors_near(synced_to_host(gpu_out[i]), cpu_out[i], 0, 0)) << "output " << i;
    }
  }
}

// One image's anchor_targets on both backends from host values (4 anchors of 2 boxes, 3
// classes): the error messages, "" where a backend throws none.
std::pair<std::string, std::string> anchor_targets_errors(const std::vector<int64_t>& matches,
                                                          const std::vector<int64_t>& labels) {
  const int64_t a = static_cast<int64_t>(matches.size()), m = static_cast<int64_t>(labels.size()), k = 3;
  const Tensor match_t = from_vector(matches, {a}, {DType::Int64}), label_t = from_vector(labels, {m}, {DType::Int64});
  const Tensor boxes = boxes_tensor({0, 0, 10, 10, 20, 20, 40, 40}, DType::Float32).slice(0, 0, m).contiguous();
  const Tensor anchors = zeros({a, 4});
  const std::string cpu_message = error_message([&] {
    cpu::anchor_targets(match_t, label_t, boxes, anchors, zeros({a, k}), zeros({a}), zeros({a}), zeros({a, 4}));
  });
  const std::string gpu_message = error_message([&] {
    const DType f32 = DType::Float32;
    cuda::anchor_targets(on_gpu(match_t), on_gpu(label_t), on_gpu(boxes), on_gpu(anchors), gpu_empty({a, k}, f32),
                         gpu_empty({a}, f32), gpu_empty({a}, f32), gpu_empty({a, 4}, f32));
    cuda::synchronize();  // an illegal address would surface here at the latest
  });
  return {without_location(cpu_message), without_location(gpu_message)};
}

TEST(AnchorTargetsCuda, OutOfRangeMatchesAndLabelsRaiseTheCpuError) {
  MASKDET_REQUIRE_GPU();
  struct Case {
    std::vector<int64_t> matches, labels;
    const char* expected;  // what the CPU's message says
  };
  const Case cases[] = {
      {{0, 1, kMatchBackground, 2}, {0, 1}, "anchor 3 is matched to box 2 of 2"},
      {{0, -3, kMatchIgnore, 1}, {0, 1}, "anchor 1 is matched to box -3 of 2"},
      {{1, 1000000000000, 0, 0}, {2, 1}, "anchor 1 is matched to box 1000000000000 of 2"},
      {{kMatchIgnore, 1, 0, 5}, {0, 3}, "label 3 of box 1 is outside [0, 3)"},
      {{0, 0, 1, 1}, {0, -1}, "label -1 of box 1 is outside [0, 3)"},
      // The first bad anchor in index order, whichever check it fails.
      {{0, 1, 7, 0}, {0, 4}, "label 4 of box 1 is outside [0, 3)"},
      {{7, 1, 0, 0}, {0, 4}, "anchor 0 is matched to box 7 of 2"},
      // No boxes at all: any box index is out of range.
      {{kMatchBackground, 0}, {}, "anchor 1 is matched to box 0 of 0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expected);
    const auto [cpu_message, gpu_message] = anchor_targets_errors(c.matches, c.labels);
    EXPECT_NE(cpu_message.find(c.expected), std::string::npos) << cpu_message;
    EXPECT_EQ(gpu_message, cpu_message);
  }
  // A bad label that no foreground anchor reads is no error, on either backend.
  EXPECT_EQ(anchor_targets_errors({0, kMatchBackground, kMatchIgnore, 0}, {1, 9}),
            (std::pair<std::string, std::string>{"", ""}));
}

// After the errors the device still works: a bad index never reached memory, so no sticky error
// poisons later calls.
TEST(AnchorTargetsCuda, StillMatchesCpuAfterAnOutOfRangeError) {
  MASKDET_REQUIRE_GPU();
  EXPECT_NE(anchor_targets_errors({0, 1, 99, 1}, {0, 1}).second, "");
  const Tensor matches = from_vector<int64_t>({1, kMatchIgnore, kMatchBackground, 0}, {4}, {DType::Int64});
  const Tensor labels = from_vector<int64_t>({2, 0}, {2}, {DType::Int64});
  const Tensor boxes = boxes_tensor({0, 0, 10, 10, 20, 20, 40, 40}, DType::Float64);
  const Tensor anchors = boxes_tensor({1, 1, 9, 9, 2, 2, 8, 8, 3, 3, 7, 7, 4, 4, 6, 6}, DType::Float64);
  const Shape shapes[] = {{4, 3}, {4}, {4}, {4, 4}};
  std::vector<Tensor> cpu_out, gpu_out;
  for (const Shape& shape : shapes) {
    cpu_out.push_back(full(shape, 7.0, {DType::Float64}));
    gpu_out.push_back(on_gpu(full(shape, 7.0, {DType::Float64})));
  }
  cpu::anchor_targets(matches, labels, boxes, anchors, cpu_out[0], cpu_out[1], cpu_out[2], cpu_out[3]);
  cuda::anchor_targets(on_gpu(matches), on_gpu(labels), on_gpu(boxes), on_gpu(anchors), gpu_out[0], gpu_out[1],
                       gpu_out[2], gpu_out[3]);
  for (size_t i = 0; i < cpu_out.size(); ++i)
    EXPECT_TRUE(tensors_near(synced_to_host(gpu_out[i]), cpu_out[i], 0, 0)) << "output " << i;
}

}  // namespace
}  // namespace maskdet::test
