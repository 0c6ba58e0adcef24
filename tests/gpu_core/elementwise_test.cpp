// CPU-vs-CUDA tests of the elementwise kernels: every unary op forward and backward (kinks and
// bounds hit exactly), every binary op and comparison on every dtype with broadcasting, strided
// and in-place operands, NaNs, and where. Float tolerances: tolerance_for (gpu_core_util.h),
// because CUDA's expf/logf/powf differ from glibc's in the last ulp or so and nvcc fuses
// multiply-adds; integer and comparison results must be exact.
#include "gpu_core_util.h"
#include "tensor/kernels/elementwise.h"

namespace maskdet {
namespace {
using namespace test;
using kernels::BinaryOp;
using kernels::UnaryOp;

struct UnaryCase {
  UnaryOp op;
  double a = 0, b = 0;        // the op's parameters (clamp bounds, pow exponent)
  double lo = -3, hi = 3;     // input range
};

std::vector<UnaryCase> unary_cases() {
  return {
      {UnaryOp::Neg},
      {UnaryOp::Exp},
      {UnaryOp::Log, 0, 0, 0.01, 4},
      {UnaryOp::Sigmoid},
      {UnaryOp::Relu},
      {UnaryOp::Abs},
      {UnaryOp::Clamp, -0.5, 0.7},
      {UnaryOp::Pow, 2.0},
      {UnaryOp::Pow, 3.0},
      {UnaryOp::Pow, 0.5, 0, 0.1, 3},
      {UnaryOp::Pow, -1.5, 0, 0.1, 3},
      {UnaryOp::Pow, 0.0, 0, 0.1, 3},
      {UnaryOp::Sqrt, 0, 0, 0.01, 4},
      {UnaryOp::Sign},
  };
}

std::string describe(const UnaryCase& c, DType dtype) {
  return std::string(kernels::unary_op_name(c.op)) + "(a=" + std::to_string(c.a) + ", b=" + std::to_string(c.b) +
         ") " + dtype_name(dtype);
}

// Uniform inputs in the case's range with every 5th element replaced by a point where the op
// has a kink or a bound (0, the clamp bounds, +-1) or saturates (+-30), as far as the range allows.
Tensor unary_input(const UnaryCase& c, const Shape& shape, DType dtype, uint64_t seed) {
  Generator g(seed);
  const double specials[] = {0.0, -0.5, 0.7, 1.0, -1.0, 30.0, -30.0};
  std::vector<double> v(shape_numel(shape));
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = c.lo + (c.hi - c.lo) * g.uniform();
    const double s = specials[(i / 5) % 7];
    if (i % 5 == 0 && s >= c.lo && (s <= c.hi || c.op == UnaryOp::Exp || c.op == UnaryOp::Sigmoid)) v[i] = s;
  }
  return from_vector(v, shape, {dtype});
}

// Runs forward and backward of one case on x (a view made by `view` of a base of base_shape,
// or the base itself), with outputs in the same layout, on both devices.
void check_unary(const UnaryCase& c, DType dtype, const Shape& base_shape,
                 const std::function<Tensor(const Tensor&)>& view) {
  const auto as_view = [&](const Tensor& t) { return view ? view(t) : t; };
  const Pair x = both_devices(unary_input(c, base_shape, dtype, 21), view);
  const Tensor y_cpu = as_view(empty(base_shape, {dtype}));
  const Tensor y_gpu = as_view(empty(base_shape, {dtype, Device::cuda()}));
  cpu::unary_forward(c.op, x.cpu, y_cpu, c.a, c.b);
  cuda::unary_forward(c.op, x.gpu, y_gpu, c.a, c.b);
  EXPECT_TRUE(gpu_matches_cpu(y_gpu, y_cpu, tolerance_for(dtype))) << "forward";

  // The backward gets the CPU's y on both devices, so only the derivative is compared.
  const Pair grad_out = both_devices(uniform(base_shape, dtype, 22), view);
  const Pair y = both_devices(y_cpu.contiguous());
  const Tensor gx_cpu = as_view(empty(base_shape, {dtype}));
  const Tensor gx_gpu = as_view(empty(base_shape, {dtype, Device::cuda()}));
  cpu::unary_backward(c.op, grad_out.cpu, x.cpu, y.cpu, gx_cpu, c.a, c.b);
  cuda::unary_backward(c.op, grad_out.gpu, x.gpu, y.gpu, gx_gpu, c.a, c.b);
  EXPECT_TRUE(gpu_matches_cpu(gx_gpu, gx_cpu, tolerance_for(dtype))) << "backward";
}

TEST(GpuUnary, EveryOpDenseOddSizes) {
  MASKDET_REQUIRE_GPU();
  for (const UnaryCase& c : unary_cases())
    for (DType dtype : float_dtypes())
      for (int64_t n : odd_sizes()) {
        SCOPED_TRACE(describe(c, dtype) + ", n = " + std::to_string(n));
        check_unary(c, dtype, {n}, nullptr);
      }
}

TEST(GpuUnary, EveryOpStrided) {
  MASKDET_REQUIRE_GPU();
  for (const UnaryCase& c : unary_cases())
    for (DType dtype : float_dtypes())
      for (const Layout& layout : strided_layouts()) {
        SCOPED_TRACE(describe(c, dtype) + ", " + layout.name);
        check_unary(c, dtype, layout.base_shape, layout.view);
      }
}

TEST(GpuUnary, ScalarsAndEmptyShapes) {
  MASKDET_REQUIRE_GPU();
  for (const Shape& shape : {Shape{}, Shape{0}, Shape{2, 0, 3}}) {
    SCOPED_TRACE(shape_str(shape));
    check_unary({UnaryOp::Sigmoid}, DType::Float32, shape, nullptr);
  }
}

TEST(GpuUnary, RejectsMismatchedOperands) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = empty({4}, {DType::Float32, Device::cuda()});
  EXPECT_ERROR_CONTAINS(cuda::unary_forward(UnaryOp::Exp, x, empty({4}, {DType::Float64, Device::cuda()}), 0, 0),
                        "unary_forward: out is float64, x is float32");
  EXPECT_ERROR_CONTAINS(cuda::unary_forward(UnaryOp::Exp, x, empty({5}, {DType::Float32, Device::cuda()}), 0, 0),
                        "unary_forward: out has shape (5,), expected (4,)");
  EXPECT_ERROR_CONTAINS(cuda::unary_forward(UnaryOp::Exp, x, empty({4}), 0, 0), "out is on cpu");
  EXPECT_ERROR_CONTAINS(cuda::unary_forward(UnaryOp::Exp, empty({4}, {DType::Int64, Device::cuda()}),
                                            empty({4}, {DType::Int64, Device::cuda()}), 0, 0),
                        "expected a float32 or float64 tensor");
}

const std::vector<BinaryOp>& all_binary_ops() {
  static const std::vector<BinaryOp> ops{BinaryOp::Add,     BinaryOp::Sub,     BinaryOp::Mul, BinaryOp::Div,
                                         BinaryOp::Maximum, BinaryOp::Minimum, BinaryOp::Eq,  BinaryOp::Ne,
                                         BinaryOp::Lt,      BinaryOp::Le,      BinaryOp::Gt,  BinaryOp::Ge};
  return ops;
}

// Operands for op: comparisons get small integers (many ties); integer dtypes get small
// integers with a nonzero divisor; floats get uniform values, the divisor kept from zero.
std::pair<Tensor, Tensor> binary_inputs(BinaryOp op, const Shape& a_shape, const Shape& b_shape, DType dtype) {
  if (kernels::is_comparison(op) || !is_floating(dtype)) {
    const int lo = dtype == DType::Int64 ? -9 : 0;
    return {small_ints(a_shape, dtype, 31, lo, 9), small_ints(b_shape, dtype, 32, op == BinaryOp::Div ? 1 : lo, 9)};
  }
  return {uniform(a_shape, dtype, 31), uniform(b_shape, dtype, 32, 0.5, 2.0)};
}

// op on a and b (views of bases of a_shape / b_shape made by a_view / b_view) into out (a view
// of an out_shape base made by out_view), on both devices; compares the whole out base.
void check_binary(BinaryOp op, DType dtype, const Shape& a_shape, const std::function<Tensor(const Tensor&)>& a_view,
                  const Shape& b_shape, const std::function<Tensor(const Tensor&)>& b_view, const Shape& out_shape,
                  const std::function<Tensor(const Tensor&)>& out_view) {
  const auto [a_base, b_base] = binary_inputs(op, a_shape, b_shape, dtype);
  const Pair a = both_devices(a_base, a_view);
  const Pair b = both_devices(b_base, b_view);
  const DType out_dtype = kernels::is_comparison(op) ? DType::UInt8 : dtype;
  const Pair out_base = both_devices(zeros(out_shape, {out_dtype}));
  const auto as_out = [&](const Tensor& t) { return out_view ? out_view(t) : t; };
  cpu::binary_forward(op, a.cpu, b.cpu, as_out(out_base.cpu));
  cuda::binary_forward(op, a.gpu, b.gpu, as_out(out_base.gpu));
  EXPECT_TRUE(gpu_matches_cpu(out_base.gpu, out_base.cpu, tolerance_for(out_dtype)));
}

std::string describe(BinaryOp op, DType dtype) { return std::string(kernels::binary_op_name(op)) + " " + dtype_name(dtype); }

TEST(GpuBinary, EveryOpEveryDtypeOddSizes) {
  MASKDET_REQUIRE_GPU();
  for (BinaryOp op : all_binary_ops())
    for (DType dtype : all_dtypes())
      for (int64_t n : odd_sizes()) {
        SCOPED_TRACE(describe(op, dtype) + ", n = " + std::to_string(n));
        check_binary(op, dtype, {n}, nullptr, {n}, nullptr, {n}, nullptr);
      }
}

TEST(GpuBinary, BroadcastOperands) {
  MASKDET_REQUIRE_GPU();
  const Shape out_shape{5, 4, 7};
  for (BinaryOp op : all_binary_ops())
    for (DType dtype : all_dtypes()) {
      SCOPED_TRACE(describe(op, dtype));
      // a: (5, 1, 7) -> (5, 4, 7); b: (4, 1) -> (5, 4, 7), a leading dim added by expand.
      check_binary(op, dtype, {5, 1, 7}, [&](const Tensor& t) { return t.expand(out_shape); }, {4, 1},
                   [&](const Tensor& t) { return t.expand(out_shape); }, out_shape, nullptr);
      // A scalar against a transposed matrix.
      check_binary(op, dtype, {}, [](const Tensor& t) { return t.expand({9, 6}); }, {6, 9},
                   [](const Tensor& t) { return t.transpose(0, 1); }, {9, 6}, nullptr);
    }
}

TEST(GpuBinary, StridedOperandsAndOutput) {
  MASKDET_REQUIRE_GPU();
  for (const Layout& layout : strided_layouts())
    for (BinaryOp op : {BinaryOp::Sub, BinaryOp::Div, BinaryOp::Minimum, BinaryOp::Le})
      for (DType dtype : all_dtypes()) {
        SCOPED_TRACE(describe(op, dtype) + ", " + layout.name);
        check_binary(op, dtype, layout.base_shape, layout.view, layout.base_shape, layout.view, layout.base_shape,
                     layout.view);
      }
}

TEST(GpuBinary, InPlaceIntoEitherOperand) {
  MASKDET_REQUIRE_GPU();
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Mul, BinaryOp::Sub, BinaryOp::Maximum})
    for (DType dtype : all_dtypes())
      for (int which : {0, 1}) {
        SCOPED_TRACE(describe(op, dtype) + (which ? ", out = b" : ", out = a"));
        const auto [a_base, b_base] = binary_inputs(op, {1031}, {1031}, dtype);
        const Pair a = both_devices(a_base), b = both_devices(b_base);
        cpu::binary_forward(op, a.cpu, b.cpu, which ? b.cpu : a.cpu);
        cuda::binary_forward(op, a.gpu, b.gpu, which ? b.gpu : a.gpu);
        EXPECT_TRUE(gpu_matches_cpu(which ? b.gpu : a.gpu, which ? b.cpu : a.cpu, tolerance_for(dtype)));
      }
}

TEST(GpuBinary, NaNsPropagateAsOnTheCpu) {
  MASKDET_REQUIRE_GPU();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> av{nan, 1.0, nan, -2.0, 0.0, -0.0, 3.0};
  const std::vector<double> bv{1.0, nan, nan, -2.0, -0.0, 0.0, 2.0};
  for (DType dtype : float_dtypes())
    for (BinaryOp op : all_binary_ops()) {
      SCOPED_TRACE(describe(op, dtype));
      const Pair a = both_devices(from_vector(av, {7}, {dtype})), b = both_devices(from_vector(bv, {7}, {dtype}));
      const DType out_dtype = kernels::is_comparison(op) ? DType::UInt8 : dtype;
      const Tensor out_cpu = empty({7}, {out_dtype});
      const Tensor out_gpu = empty({7}, {out_dtype, Device::cuda()});
      cpu::binary_forward(op, a.cpu, b.cpu, out_cpu);
      cuda::binary_forward(op, a.gpu, b.gpu, out_gpu);
      EXPECT_TRUE(gpu_equals_cpu(out_gpu, out_cpu));
    }
}

TEST(GpuBinary, RejectsMismatchedOperands) {
  MASKDET_REQUIRE_GPU();
  const Tensor f = empty({3}, {DType::Float32, Device::cuda()});
  const Tensor d = empty({3}, {DType::Float64, Device::cuda()});
  EXPECT_ERROR_CONTAINS(cuda::binary_forward(BinaryOp::Add, f, d, f), "add: dtypes differ: float32 and float64");
  EXPECT_ERROR_CONTAINS(cuda::binary_forward(BinaryOp::Lt, f, f, f), "lt: out is float32");
  EXPECT_ERROR_CONTAINS(cuda::binary_forward(BinaryOp::Add, f, empty({4}, {DType::Float32, Device::cuda()}), f),
                        "binary_forward: b has shape (4,), expected (3,)");
}

TEST(GpuWhere, EveryDtypeSizesBroadcastAndStrides) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : all_dtypes()) {
    const auto run = [&](const Shape& out_shape, const Shape& mask_shape, const std::function<Tensor(const Tensor&)>& mv,
                         const Shape& ab_shape, const std::function<Tensor(const Tensor&)>& abv) {
      const Pair mask = both_devices(small_ints(mask_shape, DType::UInt8, 41, 0, 1), mv);
      const Pair a = both_devices(small_ints(ab_shape, dtype, 42, 0, 100), abv);
      const Pair b = both_devices(small_ints(ab_shape, dtype, 43, 0, 100), abv);
      const Tensor out_cpu = empty(out_shape, {dtype});
      const Tensor out_gpu = empty(out_shape, {dtype, Device::cuda()});
      cpu::where_forward(mask.cpu, a.cpu, b.cpu, out_cpu);
      cuda::where_forward(mask.gpu, a.gpu, b.gpu, out_gpu);
      EXPECT_TRUE(gpu_equals_cpu(out_gpu, out_cpu));
    };
    for (int64_t n : odd_sizes()) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + ", n = " + std::to_string(n));
      run({n}, {n}, nullptr, {n}, nullptr);
    }
    SCOPED_TRACE(std::string(dtype_name(dtype)) + ", broadcast mask and transposed operands");
    run({6, 7}, {1, 7}, [](const Tensor& t) { return t.expand({6, 7}); }, {7, 6},
        [](const Tensor& t) { return t.transpose(0, 1); });
  }
  const Tensor f = empty({3}, {DType::Float32, Device::cuda()});
  EXPECT_ERROR_CONTAINS(cuda::where_forward(f, f, f, f), "where: mask must be uint8, got float32");
}

}  // namespace
}  // namespace maskdet
