// CPU-vs-CUDA tests of gemm (cuBLAS against OpenBLAS): all four transpose combinations, odd
// and degenerate sizes (1, 0, K = 0), batched with every mix of 2-D and 3-D operands,
// expanded and column-major operands, padded output rows, alpha and beta (beta = 0 must not read
// a NaN-filled out). TF32 is off (Fp32Scope), so float32 is compared at ~1e-5 scaled by K
// (the two libraries add the K products in different orders); float64 at 1e-12.
#include "gpu_core_util.h"
#include "tensor/kernels/matmul.h"

namespace maskdet {
namespace {
using namespace test;

Tolerance gemm_tolerance(DType dtype, int64_t k) {
  const double scale = 1.0 + static_cast<double>(k) / 16.0;
  return dtype == DType::Float32 ? Tolerance{1e-5 * scale, 1e-5} : Tolerance{1e-12 * scale, 1e-12};
}

struct GemmCase {
  int64_t batch_a = 0, batch_b = 0;  // 0: a 2-D operand
  int64_t m, n, k;
};

std::string describe(const GemmCase& c, bool ta, bool tb, DType dtype, double alpha, double beta) {
  std::ostringstream os;
  os << dtype_name(dtype) << " m=" << c.m << " n=" << c.n << " k=" << c.k << " batch a=" << c.batch_a
     << " b=" << c.batch_b << (ta ? " a^T" : "") << (tb ? " b^T" : "") << " alpha=" << alpha << " beta=" << beta;
  return os.str();
}

Shape stored_shape(int64_t batch, int64_t rows, int64_t cols, bool transposed) {
  Shape s = transposed ? Shape{cols, rows} : Shape{rows, cols};
  if (batch) s.insert(s.begin(), batch);
  return s;
}

using View = std::function<Tensor(const Tensor&)>;

// An operand stored as `shape`, as a view made by `view` of a random base; with pad > 0 the
// base has pad extra columns, sliced off, so rows are farther apart than they are long.
Pair gemm_operand(Shape shape, DType dtype, uint64_t seed, const View& view, int64_t pad) {
  const int64_t cols = shape.back();
  shape.back() += pad;
  return both_devices(uniform(shape, dtype, seed), [view, cols](const Tensor& t) {
    const Tensor sliced = t.slice(-1, 0, cols);
    return view ? view(sliced) : sliced;
  });
}

// out = alpha * op(a) @ op(b) + beta * out on both devices, out starting from the same values
// (NaNs when beta = 0, which must never be read).
void check_gemm(const GemmCase& c, bool ta, bool tb, DType dtype, double alpha, double beta,
                const View& a_view = nullptr, const View& b_view = nullptr, int64_t pad = 0) {
  SCOPED_TRACE(describe(c, ta, tb, dtype, alpha, beta) + " pad=" + std::to_string(pad));
  const Pair a = gemm_operand(stored_shape(c.batch_a, c.m, c.k, ta), dtype, 71, a_view, pad);
  const Pair b = gemm_operand(stored_shape(c.batch_b, c.k, c.n, tb), dtype, 72, b_view, pad);
  const int64_t batch = std::max(c.batch_a, c.batch_b);
  const Shape out_shape = batch ? Shape{batch, c.m, c.n} : Shape{c.m, c.n};
  const Pair out = both_devices(beta == 0 ? full(out_shape, std::numeric_limits<double>::quiet_NaN(), {dtype})
                                       : uniform(out_shape, dtype, 73));
  cpu::gemm(a.cpu, ta, b.cpu, tb, out.cpu, alpha, beta);
  cuda::gemm(a.gpu, ta, b.gpu, tb, out.gpu, alpha, beta);
  EXPECT_TRUE(gpu_matches_cpu(out.gpu, out.cpu, gemm_tolerance(dtype, c.k)));
}

const std::vector<GemmCase>& plain_cases() {
  static const std::vector<GemmCase> cases{
      {0, 0, 1, 1, 1},   {0, 0, 7, 33, 5},  {0, 0, 33, 7, 64}, {0, 0, 65, 17, 130},
      {0, 0, 1, 300, 9}, {0, 0, 300, 1, 9}, {0, 0, 8, 8, 1},   {0, 0, 129, 257, 33},
  };
  return cases;
}

TEST(GpuGemm, AllTransposesOddSizes) {
  MASKDET_REQUIRE_GPU();
  Fp32Scope fp32;
  for (DType dtype : float_dtypes())
    for (const GemmCase& c : plain_cases())
      for (bool ta : {false, true})
        for (bool tb : {false, true}) check_gemm(c, ta, tb, dtype, 1.0, 0.0);
}

TEST(GpuGemm, AlphaAndBeta) {
  MASKDET_REQUIRE_GPU();
  Fp32Scope fp32;
  for (DType dtype : float_dtypes())
    for (const auto& [alpha, beta] : std::vector<std::pair<double, double>>{{1.5, 0}, {1, 1}, {-0.5, 0.25}, {0, 2}})
      for (bool ta : {false, true}) check_gemm({0, 0, 19, 23, 29}, ta, !ta, dtype, alpha, beta);
}

TEST(GpuGemm, EmptyAndZeroK) {
  MASKDET_REQUIRE_GPU();
  Fp32Scope fp32;
  for (DType dtype : float_dtypes())
    for (double beta : {0.0, 1.0, 0.5})
      for (const GemmCase& c : {GemmCase{0, 0, 5, 6, 0}, GemmCase{3, 3, 5, 6, 0}, GemmCase{0, 0, 0, 6, 4},
                                GemmCase{0, 0, 5, 0, 4}, GemmCase{0, 2, 5, 6, 0}, GemmCase{2, 2, 0, 3, 3}})
        check_gemm(c, false, true, dtype, 1.0, beta);
}

TEST(GpuGemm, BatchedEveryOperandMix) {
  MASKDET_REQUIRE_GPU();
  Fp32Scope fp32;
  // Both 3-D (strided batched), 3-D by a shared 2-D (one taller GEMM, or a loop when a is
  // transposed), 2-D by 3-D (a loop), and a batch of one.
  const std::vector<GemmCase> cases{{4, 4, 7, 9, 11}, {5, 0, 7, 9, 11}, {0, 5, 7, 9, 11}, {1, 1, 33, 17, 65},
                                    {1, 0, 3, 4, 5},  {3, 3, 1, 1, 1}};
  for (DType dtype : float_dtypes())
    for (const GemmCase& c : cases)
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (double beta : {0.0, 1.0}) check_gemm(c, ta, tb, dtype, 0.75, beta);
}

TEST(GpuGemm, ExpandedAndColumnMajorOperands) {
  MASKDET_REQUIRE_GPU();
  Fp32Scope fp32;
  for (DType dtype : float_dtypes()) {
    // A 3-D operand whose batch stride is 0 (one matrix expanded over the batch).
    check_gemm({4, 4, 6, 5, 7}, false, false, dtype, 1.0, 0.0,
               [](const Tensor& t) { return t.slice(0, 0, 1).expand({4, 6, 7}); });
    // Column-major storage: the transpose of a dense (k, m) / (n, k) matrix, read without a copy.
    const View column_major = [](const Tensor& t) { return t.view({t.size(1), t.size(0)}).transpose(0, 1); };
    for (bool ta : {false, true}) check_gemm({0, 0, 12, 10, 14}, ta, false, dtype, 1.0, 0.0, column_major, column_major);
    // Padded rows (a row stride larger than the row length), batched and shared operands.
    for (const GemmCase& c : {GemmCase{3, 3, 6, 5, 7}, GemmCase{5, 0, 6, 5, 7}, GemmCase{0, 4, 6, 5, 7}})
      for (bool ta : {false, true}) check_gemm(c, ta, true, dtype, 1.0, 1.0, nullptr, nullptr, 5);
  }
}

TEST(GpuGemm, PaddedOutputRowsLeaveTheGapsAlone) {
  MASKDET_REQUIRE_GPU();
  Fp32Scope fp32;
  for (DType dtype : float_dtypes()) {
    SCOPED_TRACE(dtype_name(dtype));
    const Pair a = both_devices(uniform({2, 9, 13}, dtype, 74)), b = both_devices(uniform({13, 11}, dtype, 75));
    const Pair base = both_devices(uniform({2, 9, 16}, dtype, 76));
    cpu::gemm(a.cpu, false, b.cpu, false, base.cpu.slice(2, 2, 13), 1.0, 1.0);
    cuda::gemm(a.gpu, false, b.gpu, false, base.gpu.slice(2, 2, 13), 1.0, 1.0);
    EXPECT_TRUE(gpu_matches_cpu(base.gpu, base.cpu, gemm_tolerance(dtype, 13)));
  }
}

TEST(GpuGemm, Tf32OnStaysCloseAndOffIsFullFloat32) {
  MASKDET_REQUIRE_GPU();
  // With TF32 allowed each product may lose ~1e-3 relative (about 0.03 absolute here at worst);
  // without it the result must be full float32.
  const Pair a = both_devices(uniform({64, 256}, DType::Float32, 77)), b = both_devices(uniform({256, 64}, DType::Float32, 78));
  Tensor expected = empty({64, 64}, {DType::Float32});
  cpu::gemm(a.cpu, false, b.cpu, false, expected, 1.0, 0.0);
  Tensor out = empty({64, 64}, {DType::Float32, Device::cuda()});
  const bool previous = cuda::allow_tf32();
  cuda::set_allow_tf32(true);
  cuda::gemm(a.gpu, false, b.gpu, false, out, 1.0, 0.0);
  EXPECT_TRUE(gpu_matches_cpu(out, expected, {1e-1, 1e-2}));
  cuda::set_allow_tf32(false);
  cuda::gemm(a.gpu, false, b.gpu, false, out, 1.0, 0.0);
  EXPECT_TRUE(gpu_matches_cpu(out, expected, gemm_tolerance(DType::Float32, 256)));
  cuda::set_allow_tf32(previous);
}

TEST(GpuGemm, RejectsBadOperands) {
  MASKDET_REQUIRE_GPU();
  const auto g = [](const Shape& s, DType d = DType::Float32) { return empty(s, {d, Device::cuda()}); };
  EXPECT_ERROR_CONTAINS(cuda::gemm(g({3, 4}), false, g({5, 6}), false, g({3, 6}), 1, 0),
                        "gemm: cannot multiply (3, 4) by (5, 6)");
  EXPECT_ERROR_CONTAINS(cuda::gemm(g({3, 4}), false, g({4, 6}), false, g({3, 5}), 1, 0),
                        "gemm: out has shape (3, 5), expected (3, 6)");
  EXPECT_ERROR_CONTAINS(cuda::gemm(g({3, 4}), false, g({4, 6}, DType::Float64), false, g({3, 6}), 1, 0),
                        "gemm: dtypes differ");
  EXPECT_ERROR_CONTAINS(cuda::gemm(g({3, 8}).slice(1, 0, 8, 2), false, g({4, 6}), false, g({3, 6}), 1, 0),
                        "which BLAS cannot read");
  EXPECT_ERROR_CONTAINS(cuda::gemm(g({3, 4}), false, g({4, 6}), false, g({6, 3}).transpose(0, 1), 1, 0),
                        "it needs row-major rows");
}

}  // namespace
}  // namespace maskdet
