// CPU-vs-CUDA tests of the box kernels other than NMS (tensor/kernels/boxes.h): box_iou over
// random and degenerate boxes, the box coder (encode, decode, its dw / dh clamp, the round
// trip) and clip_boxes, float32 and float64, empty inputs included.
//
// Tolerances, per (atol, rtol):
//   - box_iou: rtol 1e-6 (float32) / 1e-14 (float64). The CUDA IoU rounds each operation as
//     the CPU's does (boxes.cu), so the default build agrees to the bit; the margin allows a
//     CPU built with -march=native, where GCC may fuse a product into the union's sum.
//   - encode_boxes: (1e-4, 1e-5) float32, (1e-12, 1e-12) float64. Centres a0 + 0.5 w may be
//     fused on the GPU (an ulp of a coordinate below 1000, 6e-5, times wx / aw <= 10 / 8);
//     logf is within an ulp of glibc's.
//   - decode_boxes: (1e-3, 1e-5) float32, (1e-9, 1e-12) float64: coordinates reach 2e4 after
//     exp(max_log_scale), whose float32 ulp is 2e-3.
//   - clip_boxes: exact (comparisons only).
#include <cmath>
#include <vector>

#include "detection_gpu_util.h"
#include "tensor/kernels/boxes.h"

namespace maskdet::test {
namespace {

constexpr double kMaxLogScale = 4.135166556742356;  // log(1000 / 16), retinanet/box_ops.h's default
constexpr std::array<double, 4> kUnitWeights{1, 1, 1, 1};
constexpr std::array<double, 4> kRcnnWeights{10, 10, 5, 5};

const DType kDtypes[] = {DType::Float32, DType::Float64};

// Degenerate and awkward boxes: a point, zero width, zero height, inverted (x2 < x1),
// negative coordinates, huge, tiny, and exact duplicates of each other.
const std::vector<double> kAwkward = {0, 0, 0, 0,        5, 5, 5, 10,    1, 1, 10, 1,   10, 10, 5, 5,
                                      -5, -5, 5, 5,      0, 0, 1e6, 1e6, 0, 0, 1e-3, 1e-3, 0, 0, 10, 10,
                                      0, 0, 10, 10,      2, 3, 7, 9,     2, 3, 7, 9,    3, 3, 8, 20};

void expect_iou_agrees(const std::vector<double>& a, const std::vector<double>& b, DType dtype) {
  const Tensor ta = boxes_tensor(a, dtype), tb = boxes_tensor(b, dtype);
  const Shape shape{ta.size(0), tb.size(0)};
  Tensor cpu_out = empty(shape, {dtype});
  cpu::box_iou(ta, tb, cpu_out);
  Tensor gpu_out = gpu_empty(shape, dtype);
  cuda::box_iou(on_gpu(ta), on_gpu(tb), gpu_out);
  EXPECT_TRUE(tensors_near(synced_to_host(gpu_out), cpu_out, 0, dtype == DType::Float32 ? 1e-6 : 1e-14));
}

TEST(BoxIouCuda, MatchesCpuOnRandomBoxes) {
  MASKDET_REQUIRE_GPU();
  Generator gen(3);
  const int64_t sizes[][2] = {{0, 5}, {1, 1}, {37, 129}, {300, 70}, {1, 4099}};
  for (DType dtype : kDtypes) {
    for (const auto& nm : sizes) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + std::to_string(nm[0]) + " x " + std::to_string(nm[1]));
      // Small extent relative to the sizes, so most pairs overlap.
      expect_iou_agrees(random_boxes(nm[0], gen, 100, 1, 60), random_boxes(nm[1], gen, 100, 1, 60), dtype);
    }
  }
}

// (N, 0) and (0, 0) results. Both kernels demand a contiguous `out`, and Tensor::is_contiguous
// (tensor/tensor.cpp) calls such an empty tensor made by empty() non-contiguous, because
// contiguous_strides counts a 0-sized dim as 1: until that is fixed (an empty tensor is
// trivially contiguous), both backends throw here, the CPU first.
TEST(BoxIouCuda, EmptySecondSet) {
  MASKDET_REQUIRE_GPU();
  Generator gen(4);
  for (DType dtype : kDtypes) {
    expect_iou_agrees(random_boxes(5, gen, 100, 1, 60), {}, dtype);
    expect_iou_agrees({}, {}, dtype);
  }
}

TEST(BoxIouCuda, MatchesCpuOnDegenerateBoxes) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : kDtypes) {
    SCOPED_TRACE(dtype_name(dtype));
    expect_iou_agrees(kAwkward, kAwkward, dtype);
    // Empty unions give 0, identical proper boxes exactly 1.
    Tensor out = gpu_empty({12, 12}, dtype);
    cuda::box_iou(on_gpu(boxes_tensor(kAwkward, dtype)), on_gpu(boxes_tensor(kAwkward, dtype)), out);
    const Tensor host = synced_to_host(out);
    EXPECT_EQ(host.at({0, 0}), 0.0) << "a point with itself";
    EXPECT_EQ(host.at({1, 1}), 0.0) << "a zero-width box with itself";
    EXPECT_EQ(host.at({7, 8}), 1.0) << "duplicates";
    EXPECT_EQ(host.at({9, 10}), 1.0) << "duplicates";
  }
}

struct CoderData {
  Tensor anchors, boxes;
};

CoderData coder_data(int64_t n, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return {boxes_tensor(random_boxes(n, gen, 500, 8, 300), dtype), boxes_tensor(random_boxes(n, gen, 500, 8, 300), dtype)};
}

// Runs body(dtype, n, weights) over both dtypes, a few box counts (empty, odd, several
// blocks) and the unit and R-CNN coder weights.
template <class Body>
void for_each_coder_case(const Body& body) {
  for (DType dtype : kDtypes) {
    for (int64_t n : {0, 1, 7, 1000, 4097}) {
      for (const auto& weights : {kUnitWeights, kRcnnWeights}) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " n " + std::to_string(n) + " wx " + std::to_string(weights[0]));
        body(dtype, n, weights);
      }
    }
  }
}

TEST(BoxCoderCuda, EncodeMatchesCpu) {
  MASKDET_REQUIRE_GPU();
  for_each_coder_case([](DType dtype, int64_t n, const std::array<double, 4>& weights) {
    const CoderData d = coder_data(n, dtype, 100 + n);
    Tensor cpu_out = empty({n, 4}, {dtype});
    cpu::encode_boxes(d.anchors, d.boxes, weights, cpu_out);
    Tensor gpu_out = gpu_empty({n, 4}, dtype);
    cuda::encode_boxes(on_gpu(d.anchors), on_gpu(d.boxes), weights, gpu_out);
    const bool f32 = dtype == DType::Float32;
    EXPECT_TRUE(tensors_near(synced_to_host(gpu_out), cpu_out, f32 ? 1e-4 : 1e-12, f32 ? 1e-5 : 1e-12));
  });
}

// Zero-sized boxes give log(0) = -inf on both backends (the kernel does not guard them).
TEST(BoxCoderCuda, EncodeOfEmptyBoxesMatchesCpuInfinities) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : kDtypes) {
    const Tensor anchors = boxes_tensor({0, 0, 16, 16, 0, 0, 16, 16}, dtype);
    const Tensor boxes = boxes_tensor({4, 4, 4, 12, 2, 2, 10, 2}, dtype);
    Tensor cpu_out = empty({2, 4}, {dtype});
    cpu::encode_boxes(anchors, boxes, kRcnnWeights, cpu_out);
    Tensor gpu_out = gpu_empty({2, 4}, dtype);
    cuda::encode_boxes(on_gpu(anchors), on_gpu(boxes), kRcnnWeights, gpu_out);
    const Tensor host = synced_to_host(gpu_out);
    EXPECT_EQ(host.at({0, 2}), -INFINITY);
    EXPECT_EQ(host.at({1, 3}), -INFINITY);
    EXPECT_TRUE(tensors_near(host, cpu_out, 1e-5));
  }
}

TEST(BoxCoderCuda, DecodeMatchesCpuIncludingClampedScales) {
  MASKDET_REQUIRE_GPU();
  for_each_coder_case([](DType dtype, int64_t n, const std::array<double, 4>& weights) {
    const CoderData d = coder_data(n, dtype, 200 + n);
    Generator gen(300 + n);
    std::vector<double> deltas(4 * n);
    for (int64_t i = 0; i < 4 * n; ++i) deltas[i] = 0.5 * gen.normal();
    // Scale deltas beyond the clamp, after division by the weight, and far below it.
    for (int64_t i = 0; i < n; i += 3) deltas[4 * i + 2 + i % 2] = (i % 2 ? 100.0 : 30.0) * weights[2];
    for (int64_t i = 1; i < n; i += 5) deltas[4 * i + 2] = -40.0;
    const Tensor td = boxes_tensor(deltas, dtype);
    Tensor cpu_out = empty({n, 4}, {dtype});
    cpu::decode_boxes(d.anchors, td, weights, kMaxLogScale, cpu_out);
    Tensor gpu_out = gpu_empty({n, 4}, dtype);
    cuda::decode_boxes(on_gpu(d.anchors), on_gpu(td), weights, kMaxLogScale, gpu_out);
    const bool f32 = dtype == DType::Float32;
    EXPECT_TRUE(tensors_near(synced_to_host(gpu_out), cpu_out, f32 ? 1e-3 : 1e-9, f32 ? 1e-5 : 1e-12));
  });
}

// A 16-pixel anchor with dw = dh = 100 is clamped to exp(log(1000 / 16)) * 16 = 1000 pixels.
TEST(BoxCoderCuda, DecodeClampsTheLogScale) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : kDtypes) {
    Tensor out = gpu_empty({1, 4}, dtype);
    cuda::decode_boxes(on_gpu(boxes_tensor({0, 0, 16, 16}, dtype)), on_gpu(boxes_tensor({0, 0, 100, 100}, dtype)),
                       kUnitWeights, kMaxLogScale, out);
    EXPECT_TRUE(tensors_near(synced_to_host(out), boxes_tensor({-492, -492, 508, 508}, DType::Float64), 0, 1e-5));
  }
}

TEST(BoxCoderCuda, EncodeThenDecodeRoundTrips) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : kDtypes) {
    SCOPED_TRACE(dtype_name(dtype));
    const CoderData d = coder_data(2049, dtype, 5);
    const Tensor anchors = on_gpu(d.anchors);
    Tensor deltas = gpu_empty({2049, 4}, dtype), decoded = gpu_empty({2049, 4}, dtype);
    cuda::encode_boxes(anchors, on_gpu(d.boxes), kRcnnWeights, deltas);
    cuda::decode_boxes(anchors, deltas, kRcnnWeights, kMaxLogScale, decoded);
    const bool f32 = dtype == DType::Float32;
    EXPECT_TRUE(tensors_near(synced_to_host(decoded), d.boxes, f32 ? 1e-3 : 1e-9, f32 ? 1e-5 : 1e-12));
  }
}

TEST(ClipBoxesCuda, MatchesCpuExactly) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : kDtypes) {
    for (int64_t n : {0, 1, 33, 5000}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " n " + std::to_string(n));
      Generator gen(9 + n);
      std::vector<double> v = random_boxes(n, gen, 800, 0, 200);
      for (double& c : v) c -= 100;  // coordinates in [-100, 900)
      if (n > 0) v[1] = NAN;         // stays NaN, as std::clamp leaves it
      const Tensor host = boxes_tensor(v, dtype);
      const Tensor cpu_boxes = host.clone();
      cpu::clip_boxes(cpu_boxes, 480, 640);
      const Tensor gpu_boxes = on_gpu(host);
      cuda::clip_boxes(gpu_boxes, 480, 640);
      EXPECT_TRUE(tensors_near(synced_to_host(gpu_boxes), cpu_boxes, 0));
    }
  }
}

TEST(BoxKernelsCuda, ChecksNameTheOffendingArgument) {
  MASKDET_REQUIRE_GPU();
  const Tensor boxes = on_gpu(zeros({3, 4}));
  EXPECT_ERROR_CONTAINS(cuda::box_iou(on_gpu(zeros({3, 5})), boxes, gpu_empty({3, 3}, DType::Float32)),
                        "box_iou: a must be (N, 4), got (3, 5)");
  EXPECT_ERROR_CONTAINS(cuda::box_iou(boxes, on_gpu(zeros({4, 3})).transpose(0, 1), gpu_empty({3, 3}, DType::Float32)),
                        "b must be contiguous");
  EXPECT_ERROR_CONTAINS(cuda::box_iou(boxes, boxes, gpu_empty({3, 2}, DType::Float32)),
                        "out has shape (3, 2), expected (3, 3)");
  EXPECT_ERROR_CONTAINS(cuda::box_iou(boxes, zeros({3, 4}), gpu_empty({3, 3}, DType::Float32)), "b is on cpu");
  EXPECT_ERROR_CONTAINS(cuda::box_iou(boxes, on_gpu(zeros({3, 4}, {DType::Float64})), gpu_empty({3, 3}, DType::Float32)),
                        "b is float64, out float32");
  EXPECT_ERROR_CONTAINS(cuda::encode_boxes(boxes, on_gpu(zeros({2, 4})), kUnitWeights, gpu_empty({3, 4}, DType::Float32)),
                        "encode_boxes: 3 anchors, 2 boxes, 3 deltas");
  EXPECT_ERROR_CONTAINS(cuda::decode_boxes(boxes, boxes, kUnitWeights, kMaxLogScale, empty({3, 4})),
                        "the CUDA kernel got boxes on cpu");
  EXPECT_ERROR_CONTAINS(cuda::clip_boxes(zeros({3, 4}), 10, 10), "clip_boxes: the CUDA kernel got boxes on cpu");
  const Tensor ints = on_gpu(zeros({3, 4}, {DType::Int64}));
  EXPECT_ERROR_CONTAINS(cuda::clip_boxes(ints, 10, 10), "expected a float32 or float64 tensor, got int64");
}

}  // namespace
}  // namespace maskdet::test
