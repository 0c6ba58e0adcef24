// Box kernels: IoU by hand, coder round trip, NMS edge cases (> 64 boxes, ties, all overlapping, empty),
// and the CUDA NMS's box limit, which is host code.
#include "retinanet/box_ops.h"
#include "tensor/kernels/boxes_checks.h"
#include "test_util.h"

namespace maskdet {
namespace {

Tensor boxes_of(const std::vector<double>& v) {
  return from_vector(v, {static_cast<int64_t>(v.size() / 4), 4}, {DType::Float64});
}

TEST(Boxes, IouByHand) {
  Tensor a = boxes_of({0, 0, 10, 10, 0, 0, 0, 0});
  Tensor b = boxes_of({5, 5, 15, 15, 0, 0, 10, 10, 20, 20, 30, 30});
  Tensor iou = box_iou(a, b);
  EXPECT_NEAR(iou.at({0, 0}), 25.0 / 175.0, 1e-12);
  EXPECT_EQ(iou.at({0, 1}), 1.0);
  EXPECT_EQ(iou.at({0, 2}), 0.0);
  EXPECT_EQ(iou.at({1, 0}), 0.0);  // a degenerate box has no union with itself
  EXPECT_EQ(box_iou(boxes_of({}), b).shape(), (Shape{0, 3}));
  EXPECT_EQ(box_iou(a, boxes_of({})).shape(), (Shape{2, 0}));
}

TEST(Boxes, EncodeDecodeRoundTrip) {
  Tensor anchors = boxes_of({0, 0, 32, 32, 10, 20, 74, 52, 100, 100, 110, 140});
  Tensor gt = boxes_of({4, 2, 30, 40, 0, 0, 64, 64, 90, 95, 130, 150});
  BoxCoderWeights coder{{10, 10, 5, 5}, 4.135};
  Tensor deltas = encode_boxes(anchors, gt, coder);
  EXPECT_NEAR(deltas.at({0, 0}), 10 * (17.0 - 16.0) / 32.0, 1e-12);
  EXPECT_NEAR(deltas.at({0, 2}), 5 * std::log(26.0 / 32.0), 1e-12);
  EXPECT_TRUE(test::tensors_near(decode_boxes(anchors, deltas, coder), gt, 1e-9));
  // Huge predicted scales are clamped.
  Tensor wild = boxes_of({0, 0, 100, 100});
  Tensor decoded = decode_boxes(boxes_of({0, 0, 10, 10}), wild);
  EXPECT_NEAR(decoded.at({0, 2}) - decoded.at({0, 0}), 10 * std::exp(4.135166556742356), 1e-6);
}

TEST(Boxes, ClipKeepsBoxesInsideTheImage) {
  Tensor c = clip_boxes(boxes_of({-5, -3, 50, 200}), 100, 40);
  EXPECT_EQ(c.to_vector<double>(), (std::vector<double>{0, 0, 40, 100}));
}

TEST(Boxes, NmsSuppressesOverlapsByScore) {
  Tensor b = boxes_of({0, 0, 10, 10, 1, 1, 11, 11, 50, 50, 60, 60, 0, 0, 10, 10.5});
  Tensor s = from_vector<double>({0.9, 0.95, 0.5, 0.3}, {4}, {DType::Float64});
  Tensor keep = nms(b, s, 0.5);
  EXPECT_EQ(keep.to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  // Threshold is strict: IoU exactly at the threshold survives.
  Tensor halves = boxes_of({0, 0, 2, 1, 1, 0, 3, 1});  // IoU 1/3
  EXPECT_EQ(nms(halves, from_vector<double>({1, 0.5}, {2}, {DType::Float64}), 1.0 / 3.0).numel(), 2);
  EXPECT_EQ(nms(boxes_of({}), zeros({0}, {DType::Float64}), 0.5).numel(), 0);
}

TEST(Boxes, NmsTiesKeepTheLowerIndex) {
  Tensor b = boxes_of({0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10});
  Tensor s = full({3}, 0.7, {DType::Float64});
  EXPECT_EQ(nms(b, s, 0.5).to_vector<int64_t>(), (std::vector<int64_t>{0}));
}

TEST(Boxes, NmsManyBoxesAllOverlappingKeepsOne) {
  const int64_t n = 200;  // more than one 64-box tile
  std::vector<double> v, sc;
  for (int64_t i = 0; i < n; ++i) {
    v.insert(v.end(), {0.0 + 0.01 * i, 0, 100.0 + 0.01 * i, 100});
    sc.push_back(static_cast<double>((i * 37) % n));
  }
  Tensor keep = nms(boxes_of(v), from_vector(sc, {n}, {DType::Float64}), 0.5);
  ASSERT_EQ(keep.numel(), 1);
  EXPECT_EQ(sc[keep.to_vector<int64_t>()[0]], n - 1.0);
}

TEST(Boxes, NmsManyDisjointBoxesKeepsAllInScoreOrder) {
  const int64_t n = 150;
  std::vector<double> v, sc;
  for (int64_t i = 0; i < n; ++i) {
    v.insert(v.end(), {20.0 * i, 0, 20.0 * i + 10, 10});
    sc.push_back(static_cast<double>(i % 7) + 0.001 * i);
  }
  Tensor keep = nms(boxes_of(v), from_vector(sc, {n}, {DType::Float64}), 0.5);
  ASSERT_EQ(keep.numel(), n);
  const auto k = keep.to_vector<int64_t>();
  for (int64_t i = 1; i < n; ++i) EXPECT_GE(sc[k[i - 1]], sc[k[i]]);
}

TEST(Boxes, BatchedNmsOnlySuppressesWithinAClass) {
  Tensor b = boxes_of({0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10});
  Tensor s = from_vector<double>({0.9, 0.8, 0.7}, {3}, {DType::Float64});
  Tensor labels = from_vector<int64_t>({0, 1, 0}, {3}, {DType::Int64});
  EXPECT_EQ(batched_nms(b, s, labels, 0.5).to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
}

TEST(Boxes, BadShapesAreClearErrors) {
  EXPECT_THROW(box_iou(zeros({3, 5}, {DType::Float64}), boxes_of({0, 0, 1, 1})), Error);
  EXPECT_THROW(nms(boxes_of({0, 0, 1, 1}), zeros({2}, {DType::Float64}), 0.5), Error);
}

// The CUDA NMS's bitmask is n * ceil(n / 64) 64-bit words: the limit is the last n within 1 GiB,
// RetinaNet's 5 x 1000 candidates are far below it, and the error names the limit and the size.
TEST(Boxes, CudaNmsBoxLimitCapsTheMaskAtOneGiB) {
  using namespace kernels;
  EXPECT_EQ(cuda_nms_mask_bytes(1), 8);
  EXPECT_EQ(cuda_nms_mask_bytes(64), 64 * 8);
  EXPECT_EQ(cuda_nms_mask_bytes(65), 65 * 2 * 8);
  EXPECT_EQ(cuda_nms_mask_bytes(5000), 5000 * 79 * 8);
  const int64_t max_boxes = cuda_nms_max_boxes();
  EXPECT_EQ(max_boxes, 92672);  // 1448 full tiles
  EXPECT_LE(cuda_nms_mask_bytes(max_boxes), kCudaNmsMaxMaskBytes);
  EXPECT_GT(cuda_nms_mask_bytes(max_boxes + 1), kCudaNmsMaxMaskBytes);
  EXPECT_LE(cuda_nms_tiles(max_boxes), kCudaNmsMaxTiles);
  for (int64_t n : {int64_t{1}, int64_t{5000}, max_boxes}) EXPECT_NO_THROW(check_cuda_nms_box_count(n, "nms")) << n;
  EXPECT_ERROR_CONTAINS(check_cuda_nms_box_count(max_boxes + 1, "batched_nms"),
                        "batched_nms: the CUDA kernel handles at most 92672 boxes");
  // The old limit of the scan's shared memory, whose mask would have been 17 GiB.
  EXPECT_ERROR_CONTAINS(check_cuda_nms_box_count(385024, "nms"), "got 385024, whose mask would take 17.2578 GiB");
  // Far past where n * tiles overflows int64: still a clear error.
  EXPECT_ERROR_CONTAINS(check_cuda_nms_box_count(int64_t{1} << 40, "nms"), "got 1099511627776");
}

}  // namespace
}  // namespace maskdet
