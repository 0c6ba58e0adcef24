// CPU-vs-CUDA tests of the fused loss kernels (tensor/kernels/loss.h): every cuda:: kernel
// against its cpu:: twin on the same inputs, float32 and float64, over odd, empty and
// broadcast shapes, with ignored (weight 0) elements and +-100 logits.
//
// Tolerances, per (atol, rtol):
//   - l1: exact. A subtraction and an absolute value round the same everywhere.
//   - smooth_l1: rtol 1e-6 (float32) / 1e-15 (float64). No step adds a product, so nvcc has
//     nothing to fuse; the margin is for safety only.
//   - bce_with_logits and sigmoid_focal_loss: (2e-5, 2e-5) float32, (1e-12, 1e-12) float64.
//     CUDA's exp / log1p / pow are within a few ulp of glibc's (CUDA C++ Programming Guide,
//     "Mathematical Functions"), and nvcc may fuse the focal loss's products and sums into
//     FMAs. Where ce = max(x, 0) - x t + log1p(e) cancels (soft targets, |x| up to 100), a
//     last-bit change anywhere is up to an ulp of 100 (7.6e-6 in float32, 1.4e-14 in float64)
//     absolute.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "cuda/context.h"
#include "gpu_test_util.h"
#include "tensor/kernels/loss.h"

namespace maskdet::test {
namespace {

struct Tolerance {
  double atol, rtol;
};

// (pred, target, weight or undefined, loss, grad), all on one device.
using LossFn = std::function<void(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&)>;

struct LossCase {
  std::string name;
  LossFn cpu, gpu;
  bool weighted;  // takes a weight
  bool logits;    // pred is a logit and targets lie in [0, 1]
  Tolerance (*tolerance)(DType);
};

Tolerance exact(DType) { return {0, 0}; }
Tolerance one_rounding(DType d) { return d == DType::Float32 ? Tolerance{0, 1e-6} : Tolerance{0, 1e-15}; }
Tolerance transcendental(DType d) { return d == DType::Float32 ? Tolerance{2e-5, 2e-5} : Tolerance{1e-12, 1e-12}; }

LossCase focal_case(double alpha, double gamma) {
  return {"sigmoid_focal_loss(alpha " + std::to_string(alpha) + ", gamma " + std::to_string(gamma) + ")",
          [=](const Tensor& p, const Tensor& t, const Tensor& w, const Tensor& l, const Tensor& g) {
            cpu::sigmoid_focal_loss(p, t, w, alpha, gamma, l, g);
          },
          [=](const Tensor& p, const Tensor& t, const Tensor& w, const Tensor& l, const Tensor& g) {
            cuda::sigmoid_focal_loss(p, t, w, alpha, gamma, l, g);
          },
          true, true, transcendental};
}

LossCase smooth_l1_case(double beta) {
  return {"smooth_l1(beta " + std::to_string(beta) + ")",
          [=](const Tensor& p, const Tensor& t, const Tensor&, const Tensor& l, const Tensor& g) {
            cpu::smooth_l1(p, t, beta, l, g);
          },
          [=](const Tensor& p, const Tensor& t, const Tensor&, const Tensor& l, const Tensor& g) {
            cuda::smooth_l1(p, t, beta, l, g);
          },
          false, false, one_rounding};
}

std::vector<LossCase> all_losses() {
  return {
      {"bce_with_logits",
       [](const Tensor& p, const Tensor& t, const Tensor& w, const Tensor& l, const Tensor& g) {
         cpu::bce_with_logits(p, t, w, l, g);
       },
       [](const Tensor& p, const Tensor& t, const Tensor& w, const Tensor& l, const Tensor& g) {
         cuda::bce_with_logits(p, t, w, l, g);
       },
       true, true, transcendental},
      {"l1", [](const Tensor& p, const Tensor& t, const Tensor&, const Tensor& l, const Tensor& g) { cpu::l1(p, t, l, g); },
       [](const Tensor& p, const Tensor& t, const Tensor&, const Tensor& l, const Tensor& g) { cuda::l1(p, t, l, g); },
       false, false, exact},
      smooth_l1_case(0.0),
      smooth_l1_case(1.0 / 9.0),
      smooth_l1_case(1.0),
      focal_case(0.25, 2.0),  // RetinaNet's setting
      focal_case(-1.0, 0.0),  // plain BCE
      focal_case(0.5, 0.5),   // gamma < 1: m^(gamma - 1) is unbounded near m = 0
      focal_case(0.75, 1.5),
      focal_case(0.25, 3.0),
  };
}

// Host inputs of one shape and dtype.
struct Inputs {
  Tensor pred, target, weight;
};

// Logit losses: N(0, 16) logits, every 7th one +-100; hard {0, 1} or soft [0, 1] targets.
// Regression losses: N(0, 4) predictions near N(0, 1) targets, every 9th one equal to its
// target (gradient 0) and every 13th one exactly 1 away (|d| = beta for beta = 1).
// Weights in [0.5, 1.5) with every 5th one 0; with `non_finite`, the ignored elements' logits
// are inf, -inf or nan, which must not leak into their (zero) loss and gradient.
Inputs make_inputs(const Shape& shape, DType dtype, bool logits, bool soft, bool non_finite, uint64_t seed) {
  Generator gen(seed);
  const int64_t n = shape_numel(shape);
  std::vector<double> x(n), t(n), w(n);
  const double special[] = {INFINITY, -INFINITY, NAN};
  for (int64_t i = 0; i < n; ++i) {
    if (logits) {
      x[i] = 4 * gen.normal();
      if (i % 7 == 3) x[i] = i % 2 ? 100.0 : -100.0;
      t[i] = soft ? gen.uniform() : (gen.uniform() < 0.3 ? 1.0 : 0.0);
    } else {
      t[i] = gen.normal();
      x[i] = 2 * gen.normal();
      if (i % 9 == 4) x[i] = t[i];
      if (i % 13 == 6) {
        t[i] = 0.5;
        x[i] = i % 2 ? 1.5 : -0.5;
      }
    }
    w[i] = 0.5 + gen.uniform();
    if (i % 5 == 0) {
      w[i] = 0;
      if (non_finite) x[i] = special[(i / 5) % 3];
    }
  }
  const TensorOptions options{dtype};
  return {from_vector(x, shape, options), from_vector(t, shape, options), from_vector(w, shape, options)};
}

Tensor gpu_empty(const Shape& shape, DType dtype) { return empty(shape, {dtype, Device::cuda()}); }

// Runs both backends on dense copies of the inputs and compares loss and grad.
void expect_backends_agree(const LossCase& c, const Inputs& in, bool use_weight) {
  const Tensor weight = use_weight ? in.weight : Tensor();
  const Shape& shape = in.pred.shape();
  const DType dtype = in.pred.dtype();
  Tensor loss_cpu = empty(shape, {dtype}), grad_cpu = empty(shape, {dtype});
  c.cpu(in.pred, in.target, weight, loss_cpu, grad_cpu);
  Tensor loss_gpu = gpu_empty(shape, dtype), grad_gpu = gpu_empty(shape, dtype);
  c.gpu(on_gpu(in.pred), on_gpu(in.target), use_weight ? on_gpu(weight) : Tensor(), loss_gpu, grad_gpu);
  cuda::synchronize();
  const Tolerance tol = c.tolerance(dtype);
  EXPECT_TRUE(tensors_near(on_cpu(loss_gpu), loss_cpu, tol.atol, tol.rtol)) << "loss";
  EXPECT_TRUE(tensors_near(on_cpu(grad_gpu), grad_cpu, tol.atol, tol.rtol)) << "grad";
}

const Shape kShapes[] = {{0}, {1}, {7}, {2, 0, 3}, {3, 5, 17}, {1000, 2}, {100003}, {257, 3, 1},
                         // more dims than the CUDA walker keeps: dense, so they merge into one
                         {2, 1, 3, 2, 2, 1, 2, 3, 2, 2}};

TEST(LossCuda, MatchesCpuOverShapesDtypesAndWeights) {
  MASKDET_REQUIRE_GPU();
  uint64_t seed = 1;
  for (const LossCase& c : all_losses()) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
      for (const Shape& shape : kShapes) {
        for (bool soft : {false, true}) {
          if (soft && !c.logits) continue;
          for (bool use_weight : {false, true}) {
            if (use_weight && !c.weighted) continue;
            SCOPED_TRACE(c.name + " " + dtype_name(dtype) + " " + shape_str(shape) + (soft ? " soft" : " hard") +
                         (use_weight ? " weighted" : ""));
            expect_backends_agree(c, make_inputs(shape, dtype, c.logits, soft, use_weight, seed++), use_weight);
          }
        }
      }
    }
  }
}

TEST(LossCuda, IgnoredElementsAreExactZerosEvenForNonFiniteLogits) {
  MASKDET_REQUIRE_GPU();
  for (const LossCase& c : all_losses()) {
    if (!c.weighted) continue;
    for (DType dtype : {DType::Float32, DType::Float64}) {
      SCOPED_TRACE(c.name + " " + dtype_name(dtype));
      const Inputs in = make_inputs({3, 41}, dtype, true, true, true, 7);
      expect_backends_agree(c, in, true);
      Tensor loss = gpu_empty({3, 41}, dtype), grad = gpu_empty({3, 41}, dtype);
      c.gpu(on_gpu(in.pred), on_gpu(in.target), on_gpu(in.weight), loss, grad);
      cuda::synchronize();
      const auto l = on_cpu(loss).to_vector<double>(), g = on_cpu(grad).to_vector<double>();
      const auto w = in.weight.to_vector<double>();
      for (size_t i = 0; i < w.size(); ++i) {
        if (w[i] != 0) continue;
        EXPECT_TRUE(l[i] == 0 && !std::signbit(l[i])) << "loss[" << i << "] = " << l[i];
        EXPECT_TRUE(g[i] == 0 && !std::signbit(g[i])) << "grad[" << i << "] = " << g[i];
      }
    }
  }
}

TEST(LossCuda, ExtremeLogitsStayFiniteAndMatchCpu) {
  MASKDET_REQUIRE_GPU();
  const std::vector<double> x = {-100, -100, 100, 100, -30, 30, -17, 17, -100, 100, 0, -0.0};
  const std::vector<double> t = {0, 1, 0, 1, 1, 0, 1, 0, 0.25, 0.75, 1, 0};
  for (const LossCase& c : all_losses()) {
    if (!c.logits) continue;
    for (DType dtype : {DType::Float32, DType::Float64}) {
      SCOPED_TRACE(c.name + " " + dtype_name(dtype));
      const Shape shape{static_cast<int64_t>(x.size())};
      const Inputs in{from_vector(x, shape, {dtype}), from_vector(t, shape, {dtype}), ones(shape, {dtype})};
      expect_backends_agree(c, in, false);
      Tensor loss = gpu_empty(shape, dtype), grad = gpu_empty(shape, dtype);
      c.gpu(on_gpu(in.pred), on_gpu(in.target), Tensor(), loss, grad);
      cuda::synchronize();
      for (double v : on_cpu(loss).to_vector<double>()) EXPECT_TRUE(std::isfinite(v)) << v;
      for (double v : on_cpu(grad).to_vector<double>()) EXPECT_TRUE(std::isfinite(v)) << v;
    }
  }
}

// The header promises gamma = 0 with alpha < 0 is bce_with_logits bit for bit.
TEST(LossCuda, FocalWithGammaZeroIsBceBitForBit) {
  MASKDET_REQUIRE_GPU();
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (bool soft : {false, true}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + (soft ? " soft" : " hard"));
      const Inputs in = make_inputs({4099}, dtype, true, soft, false, 11);
      const Tensor x = on_gpu(in.pred), t = on_gpu(in.target), w = on_gpu(in.weight);
      Tensor l_bce = gpu_empty({4099}, dtype), g_bce = gpu_empty({4099}, dtype);
      Tensor l_focal = gpu_empty({4099}, dtype), g_focal = gpu_empty({4099}, dtype);
      cuda::bce_with_logits(x, t, w, l_bce, g_bce);
      cuda::sigmoid_focal_loss(x, t, w, -1.0, 0.0, l_focal, g_focal);
      cuda::synchronize();
      EXPECT_TRUE(tensors_near(on_cpu(l_focal), on_cpu(l_bce), 0)) << "loss";
      EXPECT_TRUE(tensors_near(on_cpu(g_focal), on_cpu(g_bce), 0)) << "grad";
    }
  }
}

// Operands as the autograd ops hand them over: a transposed prediction, a target and a weight
// broadcast with stride 0, and loss / grad written through step-2 slices of larger buffers
// (whose skipped elements must stay untouched). Views are made on each device from the same
// dense bases, and whole bases are compared, gaps included.
TEST(LossCuda, StridedAndBroadcastOperands) {
  MASKDET_REQUIRE_GPU();
  constexpr int64_t kRows = 9, kCols = 17;
  for (const LossCase& c : all_losses()) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
      SCOPED_TRACE(c.name + " " + dtype_name(dtype));
      const Inputs base = make_inputs({kCols * kRows}, dtype, c.logits, true, false, 23);
      const Tensor pred_base = base.pred.reshape({kCols, kRows});      // viewed transposed: (kRows, kCols)
      const Tensor target_base = base.target.slice(0, 0, kCols).reshape({1, kCols});  // expanded over rows
      const Tensor weight_base = base.weight.slice(0, 0, kRows).reshape({kRows, 1});  // expanded over columns
      const Tensor out_base = full({kRows, 2 * kCols}, -7.0, {dtype});  // every other column is written

      const auto run = [&](const LossFn& fn, bool on_device) {
        const auto place = [&](const Tensor& t) { return on_device ? on_gpu(t) : t.clone(); };
        const Tensor pred = place(pred_base).transpose(0, 1);
        const Tensor target = place(target_base).expand({kRows, kCols});
        const Tensor weight = c.weighted ? place(weight_base).expand({kRows, kCols}) : Tensor();
        const Tensor loss_buf = place(out_base), grad_buf = place(out_base);
        fn(pred, target, weight, loss_buf.slice(1, 0, 2 * kCols, 2), grad_buf.slice(1, 1, 2 * kCols, 2));
        if (on_device) cuda::synchronize();
        return std::pair{on_cpu(loss_buf), on_cpu(grad_buf)};
      };
      const auto [loss_cpu, grad_cpu] = run(c.cpu, false);
      const auto [loss_gpu, grad_gpu] = run(c.gpu, true);
      const Tolerance tol = c.tolerance(dtype);
      EXPECT_TRUE(tensors_near(loss_gpu, loss_cpu, tol.atol, tol.rtol)) << "loss";
      EXPECT_TRUE(tensors_near(grad_gpu, grad_cpu, tol.atol, tol.rtol)) << "grad";
      EXPECT_EQ(loss_gpu.at({0, 1}), -7.0) << "a gap of the loss buffer was written";
      EXPECT_EQ(grad_gpu.at({kRows - 1, 2 * kCols - 2}), -7.0) << "a gap of the grad buffer was written";
    }
  }
}

TEST(LossCuda, ChecksNameTheOffendingOperand) {
  MASKDET_REQUIRE_GPU();
  const Tensor x = on_gpu(zeros({4, 3}));
  const Tensor out = empty({4, 3}, {DType::Float32, Device::cuda()});
  const Tensor out2 = empty({4, 3}, {DType::Float32, Device::cuda()});
  EXPECT_ERROR_CONTAINS(cuda::bce_with_logits(x, on_gpu(zeros({3, 4})), Tensor(), out, out2),
                        "target has shape (3, 4), expected (4, 3)");
  EXPECT_ERROR_CONTAINS(cuda::l1(x, on_gpu(zeros({4, 3}, {DType::Float64})), out, out2),
                        "target is float64, prediction is float32");
  EXPECT_ERROR_CONTAINS(cuda::smooth_l1(x, zeros({4, 3}), 1.0, out, out2), "target is on cpu, expected cuda:0");
  EXPECT_ERROR_CONTAINS(cuda::smooth_l1(x, x, 1.0, empty({4, 3}), out2), "loss is on cpu");
  EXPECT_ERROR_CONTAINS(cuda::sigmoid_focal_loss(x, x, on_gpu(zeros({4})), 0.25, 2.0, out, out2),
                        "weight has shape (4), expected (4, 3)");
  EXPECT_ERROR_CONTAINS(cuda::smooth_l1(x, x, -1.0, out, out2), "beta must be >= 0");
  EXPECT_ERROR_CONTAINS(cuda::sigmoid_focal_loss(x, x, Tensor(), 0.25, -2.0, out, out2), "gamma must be >= 0");
  EXPECT_ERROR_CONTAINS(cuda::l1(zeros({4, 3}), x, out, out2), "got a prediction on cpu");
  const Tensor ints = on_gpu(zeros({4, 3}, {DType::Int64}));
  EXPECT_ERROR_CONTAINS(cuda::l1(ints, ints, ints, ints), "expected a float32 or float64 tensor, got int64");
}

// A GPU-only limit, documented in cuda/kernels/strided.cuh: at most 8 dims after merging.
TEST(LossCuda, TooManyUnmergeableDimsIsAClearError) {
  MASKDET_REQUIRE_GPU();
  const Tensor dense = on_gpu(zeros({2, 2, 2, 2, 2, 2, 2, 2, 2}));
  const Tensor reversed = dense.permute({8, 7, 6, 5, 4, 3, 2, 1, 0});  // no two dims merge
  EXPECT_ERROR_CONTAINS(cuda::l1(reversed, reversed, reversed, reversed), "dims after merging");
}

}  // namespace
}  // namespace maskdet::test
