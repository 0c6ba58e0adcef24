// CPU-vs-CUDA tests of the anchor-matching kernels (tensor/kernels/anchor_matching.h):
// match_anchors on IoU matrices of random boxes against a real anchor grid (thresholds,
// low-quality matches, ties between boxes and between anchors, one box, no boxes, one anchor
// column past a block's 256 threads), and anchor_targets on those matches. Both compare exactly:
// the kernels only compare and copy values.
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

}  // namespace
}  // namespace maskdet::test
