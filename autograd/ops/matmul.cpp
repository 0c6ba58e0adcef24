// Matrix products and the linear layer, with their backwards: for C = A @ B,
// dA = dC @ B^T and dB = A^T @ dC, both one GEMM with a transpose flag (no transposed copies).
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/copy.h"
#include "tensor/kernels/matmul.h"

namespace maskdet {

using autograd::record;

namespace {

void check_same_dtype_device(const Tensor& a, const Tensor& b, const char* op, const char* a_name,
                             const char* b_name) {
  MASKDET_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", a_name, " ", dtype_name(a.dtype()), " ",
                shape_str(a.shape()), ", ", b_name, " ", dtype_name(b.dtype()), " ", shape_str(b.shape()));
  MASKDET_CHECK(a.device() == b.device(), op, ": ", a_name, " is on ", a.device().str(), ", ", b_name, " on ",
                b.device().str());
}

// The data of an input, cut from the graph (the op records its own node) and dense for BLAS.
Tensor dense(const Tensor& t) { return t.detach().contiguous(); }

// dB for a stack of matrices times one shared matrix: sum over the batch of A_i^T @ dC_i, which
// is a single GEMM over the stack flattened to (B * M, K)^T @ (B * M, N).
void shared_rhs_grad(const Tensor& a, const Tensor& grad_out, const Tensor& grad_b) {
  const int64_t rows = a.size(0) * a.size(1);
  kernels::gemm(a.reshape({rows, a.size(2)}), true, grad_out.reshape({rows, grad_out.size(2)}), false, grad_b, 1.0,
                0.0);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  MASKDET_CHECK(a.defined() && b.defined(), "matmul: undefined input");
  check_same_dtype_device(a, b, "matmul", "a", "b");
  const bool plain = a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0);
  const bool batched = a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0) && a.size(2) == b.size(1);
  const bool shared_rhs = a.dim() == 3 && b.dim() == 2 && a.size(2) == b.size(0);
  MASKDET_CHECK(plain || batched || shared_rhs, "matmul: cannot multiply ", shape_str(a.shape()), " by ",
                shape_str(b.shape()), " (expected (M, K) @ (K, N), (B, M, K) @ (B, K, N) or (B, M, K) @ (K, N))");
  const Shape out_shape = a.dim() == 3 ? Shape{a.size(0), a.size(1), b.size(-1)} : Shape{a.size(0), b.size(1)};
  const Tensor ad = dense(a), bd = dense(b);
  Tensor out = empty(out_shape, a.options());
  kernels::gemm(ad, false, bd, false, out, 1.0, 0.0);
  if (autograd::any_requires_grad({a, b})) {
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    // Each gradient needs only the other operand.
    const Tensor saved_a = need_b ? ad : Tensor(), saved_b = need_a ? bd : Tensor();
    const Shape a_shape = a.shape(), b_shape = b.shape();
    record("MatmulBackward", {a, b}, out, [=](const Tensor& g) -> std::vector<Tensor> {
      const Tensor gd = g.contiguous();
      Tensor ga, gb;
      if (need_a) {
        ga = empty(a_shape, gd.options());
        kernels::gemm(gd, false, saved_b, true, ga, 1.0, 0.0);
      }
      if (need_b) {
        gb = empty(b_shape, gd.options());
        if (shared_rhs) shared_rhs_grad(saved_a, gd, gb);
        else kernels::gemm(saved_a, true, gd, false, gb, 1.0, 0.0);
      }
      return {ga, gb};
    });
  }
  return out;
}

Tensor Tensor::matmul(const Tensor& other) const { return maskdet::matmul(*this, other); }

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  MASKDET_CHECK(x.defined() && weight.defined(), "linear: undefined input");
  check_same_dtype_device(x, weight, "linear", "x", "weight");
  MASKDET_CHECK(x.dim() == 2 && weight.dim() == 2 && x.size(1) == weight.size(1), "linear: x ",
                shape_str(x.shape()), " and weight ", shape_str(weight.shape()),
                " do not fit (expected x (N, in) and weight (out, in))");
  const int64_t rows = x.size(0), outs = weight.size(0);
  if (bias.defined()) {
    check_same_dtype_device(x, bias, "linear", "x", "bias");
    MASKDET_CHECK(bias.dim() == 1 && bias.size(0) == outs, "linear: bias has shape ", shape_str(bias.shape()),
                  ", expected ", shape_str({outs}), " for weight ", shape_str(weight.shape()));
  }
  const Tensor xd = dense(x), wd = dense(weight);
  Tensor out = empty({rows, outs}, x.options());
  // The bias is written first and the product added onto it: no separate pass over out.
  if (bias.defined()) kernels::copy(bias.detach().expand({rows, outs}), out);
  kernels::gemm(xd, false, wd, true, out, 1.0, bias.defined() ? 1.0 : 0.0);
  if (autograd::any_requires_grad({x, weight, bias})) {
    const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    const Tensor saved_x = need_w ? xd : Tensor(), saved_w = need_x ? wd : Tensor();
    record("LinearBackward", {x, weight, bias}, out, [=](const Tensor& g) -> std::vector<Tensor> {
      const Tensor gd = g.contiguous();
      Tensor gx, gw, gb;
      if (need_x) {
        gx = empty({gd.size(0), saved_w.size(1)}, gd.options());
        kernels::gemm(gd, false, saved_w, false, gx, 1.0, 0.0);  // (N, out) @ (out, in)
      }
      if (need_w) {
        gw = empty({gd.size(1), saved_x.size(1)}, gd.options());
        kernels::gemm(gd, true, saved_x, false, gw, 1.0, 0.0);  // (N, out)^T @ (N, in)
      }
      if (need_b) gb = sum(gd, {0});
      return {gx, gw, gb};
    });
  }
  return out;
}

}  // namespace maskdet
