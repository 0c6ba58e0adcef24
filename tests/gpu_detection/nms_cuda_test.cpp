// CPU-vs-CUDA tests of nms and batched_nms (tensor/kernels/boxes.h): the CUDA kernels must
// keep the SAME indices in the SAME order as the CPU's greedy loop, for box counts on both
// sides of the 64-box tiles of the bitmask (1 .. 3000), tied scores, signed zeros, all boxes
// overlapping, disjoint boxes, IoU exactly at the threshold, suppression chains that cross
// tiles, empty inputs and several labels. Comparisons are exact: no tolerance. Also the box
// limit (the bitmask is capped at 1 GiB) and the scratch each call gives back to the allocator.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "cuda/allocator.h"
#include "detection_gpu_util.h"
#include "tensor/kernels/boxes.h"
#include "tensor/kernels/boxes_checks.h"

namespace maskdet::test {
namespace {

const DType kDtypes[] = {DType::Float32, DType::Float64};

// The kept indices of the CPU kernel; labels undefined means plain nms.
std::vector<int64_t> keep_cpu(const Tensor& boxes, const Tensor& scores, const Tensor& labels, double threshold) {
  Tensor keep = empty({boxes.size(0)}, {DType::Int64});
  int64_t kept = -1;
  if (labels.defined()) cpu::batched_nms(boxes, scores, labels, threshold, keep, kept);
  else cpu::nms(boxes, scores, threshold, keep, kept);
  std::vector<int64_t> v = keep.to_vector<int64_t>();
  v.resize(kept);
  return v;
}

// The same on the GPU, from host inputs. keep starts as -7 everywhere, so a short write shows.
std::vector<int64_t> keep_gpu(const Tensor& boxes, const Tensor& scores, const Tensor& labels, double threshold) {
  const int64_t n = boxes.size(0);
  Tensor keep = on_gpu(full({n}, -7.0, {DType::Int64}));
  int64_t kept = -1;
  if (labels.defined()) cuda::batched_nms(on_gpu(boxes), on_gpu(scores), on_gpu(labels), threshold, keep, kept);
  else cuda::nms(on_gpu(boxes), on_gpu(scores), threshold, keep, kept);
  EXPECT_GE(kept, 0);
  EXPECT_LE(kept, n);
  std::vector<int64_t> v = synced_to_host(keep).to_vector<int64_t>();
  v.resize(std::clamp<int64_t>(kept, 0, n));
  return v;
}

// Runs both and expects the same list; returns it.
std::vector<int64_t> expect_same_keep(const Tensor& boxes, const Tensor& scores, const Tensor& labels,
                                      double threshold) {
  const std::vector<int64_t> cpu = keep_cpu(boxes, scores, labels, threshold);
  const std::vector<int64_t> gpu = keep_gpu(boxes, scores, labels, threshold);
  EXPECT_EQ(gpu, cpu) << boxes.size(0) << " boxes, threshold " << threshold;
  return cpu;
}

// Boxes in clusters of about 8 around random centres, so that suppression does happen:
// centres uniform in [0, 1000)^2, corners jittered by N(0, 6), sides 20 to 60.
std::vector<double> clustered_boxes(int64_t n, Generator& gen) {
  const int64_t clusters = std::max<int64_t>(1, n / 8);
  std::vector<double> centres(2 * clusters);
  for (double& c : centres) c = 1000 * gen.uniform();
  std::vector<double> v;
  v.reserve(4 * n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = std::min<int64_t>(clusters - 1, static_cast<int64_t>(gen.uniform() * clusters));
    const double w = 20 + 40 * gen.uniform(), h = 20 + 40 * gen.uniform();
    const double x = centres[2 * c] + 6 * gen.normal() - w / 2, y = centres[2 * c + 1] + 6 * gen.normal() - h / 2;
    v.insert(v.end(), {x, y, x + w, y + h});
  }
  return v;
}

// Uniform scores in [0, 1), or, with `levels` > 0, only that many distinct values (ties).
Tensor random_scores(int64_t n, Generator& gen, int levels, DType dtype) {
  std::vector<double> s(n);
  for (double& v : s) v = levels > 0 ? std::floor(gen.uniform() * levels) / levels : gen.uniform();
  return from_vector(s, {n}, {dtype});
}

// Side-by-side 10 x 10 boxes on a grid with gaps: IoU 0 for every pair.
std::vector<double> disjoint_boxes(int64_t n) {
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) {
    const double x = 20.0 * (i % 50), y = 20.0 * (i / 50);
    v.insert(v.end(), {x, y, x + 10, y + 10});
  }
  return v;
}

Tensor labels_tensor(const std::vector<int64_t>& labels) {
  return from_vector(labels, {static_cast<int64_t>(labels.size())}, {DType::Int64});
}

const int64_t kSizes[] = {1, 2, 10, 63, 64, 65, 127, 128, 129, 200, 1000, 3000};

TEST(NmsCuda, MatchesCpuAcrossSizesThresholdsAndTies) {
  MASKDET_REQUIRE_GPU();
  uint64_t seed = 1;
  for (DType dtype : kDtypes) {
    for (int64_t n : kSizes) {
      for (int levels : {0, 4}) {
        Generator gen(seed++);
        const Tensor boxes = boxes_tensor(clustered_boxes(n, gen), dtype);
        const Tensor scores = random_scores(n, gen, levels, dtype);
        for (double threshold : {0.3, 0.5, 0.7}) {
          SCOPED_TRACE(std::string(dtype_name(dtype)) + " n " + std::to_string(n) + (levels ? " tied" : "") +
                       " threshold " + std::to_string(threshold));
          const std::vector<int64_t> kept = expect_same_keep(boxes, scores, Tensor(), threshold);
          if (n >= 200) {
            EXPECT_LT(kept.size(), static_cast<size_t>(n)) << "the clusters should suppress something";
          }
        }
      }
    }
  }
}

TEST(NmsCuda, EqualScoresKeepLowerIndicesFirst) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : kDtypes) {
    const int64_t n = 200;
    const std::vector<int64_t> kept =
        expect_same_keep(boxes_tensor(disjoint_boxes(n), dtype), full({n}, 0.5, {dtype}), Tensor(), 0.5);
    std::vector<int64_t> expected(n);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(kept, expected);
  }
}

TEST(NmsCuda, AllBoxesOverlappingKeepsOnlyTheBest) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : kDtypes) {
    for (int64_t n : {1, 64, 65, 300}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " n " + std::to_string(n));
      std::vector<double> same;
      for (int64_t i = 0; i < n; ++i) same.insert(same.end(), {10, 20, 110, 70});
      const Tensor boxes = boxes_tensor(same, dtype);
      Generator gen(n);
      const Tensor scores = random_scores(n, gen, 0, dtype);
      const auto s = scores.to_vector<double>();
      const int64_t best = std::max_element(s.begin(), s.end()) - s.begin();  // first of the maxima
      EXPECT_EQ(expect_same_keep(boxes, scores, Tensor(), 0.5), std::vector<int64_t>{best});
      EXPECT_EQ(expect_same_keep(boxes, full({n}, 1.0, {dtype}), Tensor(), 0.5), std::vector<int64_t>{0});
      // IoU 1 is not > 1: a threshold of 1 keeps everything, in index order for equal scores.
      EXPECT_EQ(expect_same_keep(boxes, full({n}, 1.0, {dtype}), Tensor(), 1.0).size(), static_cast<size_t>(n));
    }
  }
}

TEST(NmsCuda, DisjointBoxesAreAllKeptByDescendingScore) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : kDtypes) {
    const int64_t n = 500;
    Generator gen(77);
    const Tensor scores = random_scores(n, gen, 0, dtype);
    const std::vector<int64_t> kept = expect_same_keep(boxes_tensor(disjoint_boxes(n), dtype), scores, Tensor(), 0.0);
    ASSERT_EQ(kept.size(), static_cast<size_t>(n));
    const auto s = scores.to_vector<double>();
    for (size_t i = 1; i < kept.size(); ++i) EXPECT_GE(s[kept[i - 1]], s[kept[i]]);
  }
}

// (0, 0, 3, 1) and (1, 0, 4, 1): intersection 2, union 4, IoU exactly 0.5 in both dtypes.
TEST(NmsCuda, IouAtTheThresholdDoesNotSuppress) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : kDtypes) {
    const Tensor boxes = boxes_tensor({0, 0, 3, 1, 1, 0, 4, 1}, dtype);
    const Tensor scores = from_vector<double>({0.4, 0.9}, {2}, {dtype});
    EXPECT_EQ(expect_same_keep(boxes, scores, Tensor(), 0.5), (std::vector<int64_t>{1, 0}));
    EXPECT_EQ(expect_same_keep(boxes, scores, Tensor(), 0.49), std::vector<int64_t>{1});
    // Below every IoU, even 0: only the best box survives.
    EXPECT_EQ(expect_same_keep(boxes_tensor(disjoint_boxes(70), dtype), full({70}, 0.1, {dtype}), Tensor(), -1.0),
              std::vector<int64_t>{0});
  }
}

// Boxes k = (3k, 0, 3k + 10, 10): IoU(k, k + 1) = 7 / 13 > 0.5, IoU(k, k + 2) = 4 / 16. Visited
// left to right, the greedy loop keeps every even one: box 2k + 1 is suppressed, so it cannot
// suppress 2k + 2. The chain is stored in a scrambled index order and spans four tiles.
TEST(NmsCuda, SuppressedBoxesDoNotSuppressAcrossTiles) {
  MASKDET_REQUIRE_GPU();
  const int64_t n = 250;
  std::vector<int64_t> position(n);  // index -> place in the chain
  for (int64_t i = 0; i < n; ++i) position[i] = (i * 97) % n;  // 97 is coprime to 250
  for (DType dtype : kDtypes) {
    std::vector<double> boxes, scores(n);
    for (int64_t i = 0; i < n; ++i) {
      const double x = 3.0 * position[i];
      boxes.insert(boxes.end(), {x, 0, x + 10, 10});
      scores[i] = 1.0 - position[i] / 1000.0;
    }
    const std::vector<int64_t> kept =
        expect_same_keep(boxes_tensor(boxes, dtype), from_vector(scores, {n}, {dtype}), Tensor(), 0.5);
    ASSERT_EQ(kept.size(), static_cast<size_t>(n / 2));
    for (size_t k = 0; k < kept.size(); ++k) EXPECT_EQ(position[kept[k]], static_cast<int64_t>(2 * k));
  }
}

// -0.0 and +0.0 tie (index order), as do the duplicates; infinities and denormals sort by value.
TEST(NmsCuda, ScoreEdgeCasesSortAsOnTheCpu) {
  MASKDET_REQUIRE_GPU();
  const std::vector<double> s = {0.0, -0.0, 1e-310, -1.0, INFINITY, -INFINITY, 0.5, -0.0, 0.5, 0.0, 2.0, -1e-310};
  const int64_t n = static_cast<int64_t>(s.size());
  for (DType dtype : kDtypes) {
    SCOPED_TRACE(dtype_name(dtype));
    const std::vector<int64_t> kept =
        expect_same_keep(boxes_tensor(disjoint_boxes(n), dtype), from_vector(s, {n}, {dtype}), Tensor(), 0.5);
    // In float32 the denormals 1e-310 and -1e-310 become +0 and -0.
    const std::vector<int64_t> expected =
        dtype == DType::Float64 ? std::vector<int64_t>{4, 10, 6, 8, 2, 0, 1, 7, 9, 11, 3, 5}
                                : std::vector<int64_t>{4, 10, 6, 8, 0, 1, 2, 7, 9, 11, 3, 5};
    EXPECT_EQ(kept, expected);
  }
}

TEST(NmsCuda, EmptyInput) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : kDtypes) {
    const Tensor boxes = gpu_empty({0, 4}, dtype), scores = gpu_empty({0}, dtype);
    const Tensor keep = gpu_empty({0}, DType::Int64);
    int64_t kept = -1;
    cuda::nms(boxes, scores, 0.5, keep, kept);
    EXPECT_EQ(kept, 0);
    kept = -1;
    cuda::batched_nms(boxes, scores, gpu_empty({0}, DType::Int64), 0.5, keep, kept);
    EXPECT_EQ(kept, 0);
  }
}

// The scratch block comes from the caching allocator, which reuses freed blocks: alternate
// sizes and expect every call to give its CPU answer.
TEST(NmsCuda, RepeatedCallsOfDifferentSizesStayCorrect) {
  MASKDET_REQUIRE_GPU();
  for (int64_t n : {3000, 10, 3000, 65, 1}) {
    Generator gen(500 + n);
    const Tensor boxes = boxes_tensor(clustered_boxes(n, gen), DType::Float32);
    const Tensor scores = random_scores(n, gen, 0, DType::Float32);
    expect_same_keep(boxes, scores, Tensor(), 0.5);
  }
}

// The benchmark's size (bench/cuda_bench.cpp): 157 tiles, a 12.5 MB mask, a scan whose OR
// phase runs many rounds per tile.
TEST(NmsCuda, TenThousandBoxesMatchCpu) {
  MASKDET_REQUIRE_GPU();
  const int64_t n = 10000;
  Generator gen(10000);
  const Tensor boxes = boxes_tensor(clustered_boxes(n, gen), DType::Float32);
  const Tensor scores = random_scores(n, gen, 0, DType::Float32);
  std::vector<int64_t> labels(n);
  for (int64_t& l : labels) l = static_cast<int64_t>(gen.uniform() * 3);
  expect_same_keep(boxes, scores, Tensor(), 0.5);
  expect_same_keep(boxes, scores, labels_tensor(labels), 0.5);
}

// The scratch (a 12.5 MB mask here) goes back to the allocator when the call returns: nothing
// stays allocated for it, unlike the context's workspace, which never shrinks.
TEST(NmsCuda, GivesItsScratchBack) {
  MASKDET_REQUIRE_GPU();
  const int64_t n = 10000;
  Generator gen(10001);
  const Tensor boxes = on_gpu(boxes_tensor(clustered_boxes(n, gen), DType::Float32));
  const Tensor scores = on_gpu(random_scores(n, gen, 0, DType::Float32));
  const Tensor keep = gpu_empty({n}, DType::Int64);
  cuda::synchronize();
  const size_t before = cuda::allocator_stats(0).allocated_bytes;
  cuda::reset_peak_allocated(0);
  int64_t kept = -1;
  cuda::nms(boxes, scores, 0.5, keep, kept);
  const cuda::AllocatorStats after = cuda::allocator_stats(0);
  EXPECT_EQ(after.allocated_bytes, before) << after.str();
  EXPECT_GE(after.peak_allocated_bytes, before + kernels::cuda_nms_mask_bytes(n)) << "the mask was allocated";
}

TEST(BatchedNmsCuda, MatchesCpuWithSeveralLabels) {
  MASKDET_REQUIRE_GPU();
  uint64_t seed = 1000;
  for (DType dtype : kDtypes) {
    for (int64_t n : {1, 65, 200, 1000, 3000}) {
      for (int64_t num_labels : {1, 2, 5, 80}) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " n " + std::to_string(n) + " labels " +
                     std::to_string(num_labels));
        Generator gen(seed++);
        const Tensor boxes = boxes_tensor(clustered_boxes(n, gen), dtype);
        const Tensor scores = random_scores(n, gen, num_labels == 5 ? 4 : 0, dtype);
        std::vector<int64_t> labels(n);
        for (int64_t& l : labels) l = std::min<int64_t>(num_labels - 1, static_cast<int64_t>(gen.uniform() * num_labels));
        expect_same_keep(boxes, scores, labels_tensor(labels), 0.5);
      }
    }
  }
}

TEST(BatchedNmsCuda, LabelsSeparateIdenticalBoxes) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : kDtypes) {
    std::vector<double> same;
    for (int i = 0; i < 10; ++i) same.insert(same.end(), {5, 5, 50, 50});
    const Tensor scores = from_vector<double>({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95}, {10}, {dtype});
    // Labels far apart and negative: they are compared, never used as offsets.
    const Tensor labels = labels_tensor({-3, 7, 1000000000000, -3, 7, 1000000000000, 0, 0, 7, -3});
    EXPECT_EQ(expect_same_keep(boxes_tensor(same, dtype), scores, labels, 0.5), (std::vector<int64_t>{9, 8, 7, 5}));
  }
}

TEST(BatchedNmsCuda, ChainsStaySeparatePerLabel) {
  MASKDET_REQUIRE_GPU();
  // Two interleaved copies of the chain of SuppressedBoxesDoNotSuppressAcrossTiles, one per label.
  const int64_t n = 300;
  std::vector<double> boxes, scores(n);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    const double x = 3.0 * (i / 2);
    boxes.insert(boxes.end(), {x, 0, x + 10, 10});
    scores[i] = 1.0 - i / 1000.0;
    labels[i] = i % 2;
  }
  for (DType dtype : kDtypes)
    EXPECT_EQ(expect_same_keep(boxes_tensor(boxes, dtype), from_vector(scores, {n}, {dtype}), labels_tensor(labels), 0.5)
                  .size(),
              static_cast<size_t>(n / 2));
}

TEST(NmsCuda, ChecksNameTheOffendingArgument) {
  MASKDET_REQUIRE_GPU();
  const Tensor boxes = on_gpu(zeros({5, 4})), scores = on_gpu(zeros({5}));
  const Tensor keep = gpu_empty({5}, DType::Int64);
  int64_t kept = 0;
  EXPECT_ERROR_CONTAINS(cuda::nms(boxes, on_gpu(zeros({4})), 0.5, keep, kept), "nms: scores has shape (4) for 5 boxes");
  EXPECT_ERROR_CONTAINS(cuda::nms(boxes, on_gpu(zeros({5}, {DType::Float64})), 0.5, keep, kept),
                        "scores are float64, boxes float32");
  EXPECT_ERROR_CONTAINS(cuda::nms(boxes, scores, 0.5, gpu_empty({5}, DType::Float32), kept),
                        "keep must be a contiguous int64 (5) tensor, got float32 (5)");
  EXPECT_ERROR_CONTAINS(cuda::nms(boxes, scores, 0.5, empty({5}, {DType::Int64}), kept), "keep is on cpu");
  EXPECT_ERROR_CONTAINS(cuda::nms(zeros({5, 4}), zeros({5}), 0.5, keep, kept), "the CUDA kernel got boxes on cpu");
  EXPECT_ERROR_CONTAINS(cuda::batched_nms(boxes, scores, gpu_empty({5}, DType::Float32), 0.5, keep, kept),
                        "labels must be a contiguous int64 (5) tensor, got float32 (5)");
  EXPECT_ERROR_CONTAINS(cuda::batched_nms(boxes, scores, empty({5}, {DType::Int64}), 0.5, keep, kept),
                        "labels is on cpu");
  // Beyond the 1 GiB bitmask (tensor/kernels/boxes_checks.h), before anything is allocated.
  const int64_t too_many = kernels::cuda_nms_max_boxes() + 1;
  EXPECT_ERROR_CONTAINS(cuda::nms(on_gpu(zeros({too_many, 4})), on_gpu(zeros({too_many})), 0.5,
                                  gpu_empty({too_many}, DType::Int64), kept),
                        "nms: the CUDA kernel handles at most 92672 boxes");
  EXPECT_ERROR_CONTAINS(cuda::batched_nms(on_gpu(zeros({too_many, 4})), on_gpu(zeros({too_many})),
                                          on_gpu(zeros({too_many}, {DType::Int64})), 0.5,
                                          gpu_empty({too_many}, DType::Int64), kept),
                        "batched_nms: the CUDA kernel handles at most 92672 boxes");
}

}  // namespace
}  // namespace maskdet::test
