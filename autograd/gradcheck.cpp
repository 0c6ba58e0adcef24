#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "tensor/creation.h"

namespace maskdet::autograd {

namespace {
std::string index_str(const Shape& shape, int64_t flat) {
  Shape idx(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(idx);
}
}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  // Work on private float64 copies so the caller's tensors are untouched.
  std::vector<Tensor> xs;
  for (const auto& t : inputs) {
    if (!t.defined()) {
      xs.push_back(t);
      continue;
    }
    Tensor c = t.detach().to(Device::cpu()).clone();
    if (t.requires_grad()) {
      MASKDET_CHECK(t.dtype() == DType::Float64, "gradcheck: inputs that require grad must be float64, got ",
                    dtype_name(t.dtype()));
      c.set_requires_grad(true);
    }
    xs.push_back(c);
  }
  Tensor y = fn(xs);
  MASKDET_CHECK(y.requires_grad(), "gradcheck: the function's output does not require grad");
  Generator gen(options.seed);
  const Tensor w = randn(y.shape(), {DType::Float64}, &gen);
  const Tensor loss = sum(mul(y.to(DType::Float64), w));
  loss.backward();

  auto scalar_loss = [&](const std::vector<Tensor>& args) {
    NoGradGuard no_grad;
    return sum(mul(fn(args).to(DType::Float64), w)).item();
  };

  GradcheckResult result;
  result.worst_error = -INFINITY;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].defined() || !xs[i].requires_grad()) continue;
    const Tensor analytic = xs[i].grad().defined() ? xs[i].grad() : zeros_like(xs[i]);
    const std::vector<double> a = analytic.to_vector<double>();
    double* p = xs[i].data_ptr<double>();
    for (int64_t e = 0; e < xs[i].numel(); ++e) {
      const double saved = p[e];
      p[e] = saved + options.eps;
      const double plus = scalar_loss(xs);
      p[e] = saved - options.eps;
      const double minus = scalar_loss(xs);
      p[e] = saved;
      const double numeric = (plus - minus) / (2 * options.eps);
      const double diff = std::abs(a[e] - numeric);
      const double excess = diff - (options.atol + options.rtol * std::abs(numeric));
      ++result.elements_checked;
      if (excess > result.worst_error || std::isnan(diff)) {
        result.worst_error = std::isnan(diff) ? INFINITY : excess;
        std::ostringstream os;
        os.precision(10);
        os << "input " << i << " element " << index_str(xs[i].shape(), e) << ": analytic " << a[e] << ", numeric "
           << numeric << ", |diff| " << diff;
        result.worst = os.str();
      }
    }
  }
  result.ok = result.worst_error <= 0;
  return result;
}

}  // namespace maskdet::autograd
