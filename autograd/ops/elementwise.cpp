// Elementwise ops and their backwards. Binary ops broadcast: the forward expands both
// inputs to the common shape (stride-0 views), the backward sums each gradient back to its
// input's shape with sum_to.
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/elementwise.h"

namespace maskdet {

using autograd::record;
using kernels::BinaryOp;
using kernels::UnaryOp;

namespace {

void check_binary_inputs(const Tensor& a, const Tensor& b, const char* op) {
  MASKDET_CHECK(a.defined() && b.defined(), op, ": undefined input");
  MASKDET_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", dtype_name(a.dtype()), " ", shape_str(a.shape()),
                " and ", dtype_name(b.dtype()), " ", shape_str(b.shape()));
  MASKDET_CHECK(a.device() == b.device(), op, ": tensors on different devices: ", a.device().str(), " and ",
                b.device().str());
}

// Runs a binary kernel on broadcast inputs into a fresh output.
Tensor binary_raw(BinaryOp op, const Tensor& a, const Tensor& b) {
  check_binary_inputs(a, b, kernels::binary_op_name(op));
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  Tensor out = empty(shape, a.options().with_dtype(kernels::is_comparison(op) ? DType::UInt8 : a.dtype()));
  autograd::NoGradGuard no_grad;  // the expands are internal, not part of the graph
  kernels::binary_forward(op, a.expand(shape), b.expand(shape), out);
  return out;
}

Tensor unary(UnaryOp op, const char* node_name, const Tensor& x, double p0 = 0, double p1 = 0) {
  MASKDET_CHECK(x.defined(), kernels::unary_op_name(op), ": undefined input");
  Tensor out = empty(x.shape(), x.options());
  kernels::unary_forward(op, x, out, p0, p1);
  if (autograd::any_requires_grad({x})) {
    Tensor xd = x.detach(), yd = out.detach();
    record(node_name, {x}, out, [=](const Tensor& g) -> std::vector<Tensor> {
      Tensor gx = empty(xd.shape(), xd.options());
      kernels::unary_backward(op, g, xd, yd, gx, p0, p1);
      return {gx};
    });
  }
  return out;
}

Tensor scalar_like(const Tensor& t, double v) { return scalar_tensor(v, t.options()); }

}  // namespace

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  MASKDET_CHECK(lead >= 0, "sum_to: cannot reduce shape ", shape_str(x.shape()), " to ", shape_str(shape));
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
    } else if (shape[d - lead] == 1 && x.size(d) != 1) {
      dims.push_back(d);
    } else {
      MASKDET_CHECK(shape[d - lead] == x.size(d), "sum_to: cannot reduce shape ", shape_str(x.shape()), " to ",
                    shape_str(shape));
    }
  }
  return sum(x, dims, true).reshape(shape);
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::Add, a, b);
  const Shape sa = a.shape(), sb = b.shape();
  record("AddBackward", {a, b}, out, [=](const Tensor& g) -> std::vector<Tensor> {
    return {sum_to(g, sa), sum_to(g, sb)};
  });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::Sub, a, b);
  const Shape sa = a.shape(), sb = b.shape();
  record("SubBackward", {a, b}, out, [=](const Tensor& g) -> std::vector<Tensor> {
    return {sum_to(g, sa), sum_to(neg(g), sb)};
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::Mul, a, b);
  if (autograd::any_requires_grad({a, b})) {
    Tensor ad = a.detach(), bd = b.detach();
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    record("MulBackward", {a, b}, out, [=](const Tensor& g) -> std::vector<Tensor> {
      return {need_a ? sum_to(mul(g, bd), ad.shape()) : Tensor(), need_b ? sum_to(mul(g, ad), bd.shape()) : Tensor()};
    });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::Div, a, b);
  if (autograd::any_requires_grad({a, b})) {
    Tensor ad = a.detach(), bd = b.detach();
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    record("DivBackward", {a, b}, out, [=](const Tensor& g) -> std::vector<Tensor> {
      Tensor ga = need_a ? sum_to(div(g, bd), ad.shape()) : Tensor();
      // d(a/b)/db = -a / b^2
      Tensor gb = need_b ? sum_to(neg(div(mul(g, ad), mul(bd, bd))), bd.shape()) : Tensor();
      return {ga, gb};
    });
  }
  return out;
}

namespace {
// maximum/minimum: the gradient goes to a where a wins (ties to a), else to b.
Tensor min_max(BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(op, a, b);
  if (autograd::any_requires_grad({a, b})) {
    Tensor a_wins = binary_raw(op == BinaryOp::Maximum ? BinaryOp::Ge : BinaryOp::Le, a.detach(), b.detach());
    const Shape sa = a.shape(), sb = b.shape();
    record(name, {a, b}, out, [=](const Tensor& g) -> std::vector<Tensor> {
      Tensor zero = scalar_like(g, 0.0);
      return {sum_to(where(a_wins, g, zero), sa), sum_to(where(a_wins, zero, g), sb)};
    });
  }
  return out;
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return min_max(BinaryOp::Maximum, "MaximumBackward", a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return min_max(BinaryOp::Minimum, "MinimumBackward", a, b); }

Tensor eq(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::Ge, a, b); }

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  MASKDET_CHECK(mask.dtype() == DType::UInt8, "where: mask must be uint8 (e.g. from gt/lt), got ",
                dtype_name(mask.dtype()));
  check_binary_inputs(a, b, "where");
  const Shape shape = broadcast_shapes(broadcast_shapes(mask.shape(), a.shape()), b.shape());
  Tensor out = empty(shape, a.options());
  {
    autograd::NoGradGuard no_grad;
    kernels::where_forward(mask.expand(shape), a.expand(shape), b.expand(shape), out);
  }
  if (autograd::any_requires_grad({a, b})) {
    Tensor m = mask.detach();
    const Shape sa = a.shape(), sb = b.shape();
    record("WhereBackward", {a, b}, out, [=](const Tensor& g) -> std::vector<Tensor> {
      Tensor zero = scalar_like(g, 0.0);
      return {sum_to(where(m, g, zero), sa), sum_to(where(m, zero, g), sb)};
    });
  }
  return out;
}

Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, "NegBackward", x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, "ExpBackward", x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::Log, "LogBackward", x); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::Sigmoid, "SigmoidBackward", x); }
Tensor relu(const Tensor& x) { return unary(UnaryOp::Relu, "ReluBackward", x); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::Abs, "AbsBackward", x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, "SqrtBackward", x); }
Tensor clamp(const Tensor& x, double lo, double hi) {
  MASKDET_CHECK(lo <= hi, "clamp: lo ", lo, " > hi ", hi);
  return unary(UnaryOp::Clamp, "ClampBackward", x, lo, hi);
}
Tensor pow(const Tensor& x, double exponent) { return unary(UnaryOp::Pow, "PowBackward", x, exponent); }

// ---- Tensor sugar ----
Tensor Tensor::operator-() const { return neg(*this); }
Tensor Tensor::exp() const { return maskdet::exp(*this); }
Tensor Tensor::log() const { return maskdet::log(*this); }
Tensor Tensor::sigmoid() const { return maskdet::sigmoid(*this); }
Tensor Tensor::relu() const { return maskdet::relu(*this); }
Tensor Tensor::abs() const { return maskdet::abs(*this); }
Tensor Tensor::pow(double e) const { return maskdet::pow(*this, e); }
Tensor Tensor::clamp(double lo, double hi) const { return maskdet::clamp(*this, lo, hi); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double b) { return add(a, scalar_like(a, b)); }
Tensor operator-(const Tensor& a, double b) { return sub(a, scalar_like(a, b)); }
Tensor operator*(const Tensor& a, double b) { return mul(a, scalar_like(a, b)); }
Tensor operator/(const Tensor& a, double b) { return div(a, scalar_like(a, b)); }
Tensor operator+(double a, const Tensor& b) { return add(scalar_like(b, a), b); }
Tensor operator-(double a, const Tensor& b) { return sub(scalar_like(b, a), b); }
Tensor operator*(double a, const Tensor& b) { return mul(scalar_like(b, a), b); }
Tensor operator/(double a, const Tensor& b) { return div(scalar_like(b, a), b); }

}  // namespace maskdet
