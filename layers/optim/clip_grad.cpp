// Gradient-norm clipping: per-gradient partial norms (kernels::norm_partial) combined on the
// host, then one in-place scale of every gradient.
#include "layers/optim/clip_grad.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "tensor/creation.h"
#include "tensor/kernels/elementwise.h"
#include "tensor/kernels/optim.h"

namespace maskdet::optim {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type) {
  MASKDET_CHECK(max_norm >= 0, "clip_grad_norm: max_norm must be >= 0, got ", max_norm);
  MASKDET_CHECK(norm_type > 0, "clip_grad_norm: norm_type must be > 0 (or infinity), got ", norm_type);
  NoGradGuard no_grad;
  const bool is_max = std::isinf(norm_type);
  std::vector<Tensor> grads;
  for (const Tensor& p : params) {
    const Tensor grad = p.defined() ? p.grad() : Tensor();
    if (grad.defined()) grads.push_back(grad);
  }
  // One partial per gradient, all read back in one copy: a CUDA step then waits for the host
  // once here, not once per parameter.
  std::vector<double> partials;
  if (!grads.empty()) {
    const Device device = grads.front().device();
    const int64_t count = static_cast<int64_t>(grads.size());
    const Tensor buffer = empty({count}, {DType::Float64, device});
    for (int64_t i = 0; i < count; ++i) {
      MASKDET_CHECK(grads[i].device() == device, "clip_grad_norm: gradients on ", device.str(), " and ",
                    grads[i].device().str(), "; clip each device's parameters on their own");
      kernels::norm_partial(grads[i].contiguous(), norm_type, buffer.slice(0, i, i + 1));
    }
    partials = buffer.to_vector<double>();
  }
  double accumulated = 0;
  for (const double value : partials) {
    if (is_max)
      accumulated = (value > accumulated || std::isnan(value)) && !std::isnan(accumulated) ? value : accumulated;
    else
      accumulated += value;
  }
  const double total =
      is_max ? accumulated : (norm_type == 2 ? std::sqrt(accumulated) : std::pow(accumulated, 1.0 / norm_type));
  const double coef = max_norm / (total + 1e-6);
  // Also true for a NaN total: the NaN then spreads into the gradients, as in PyTorch.
  if (!(coef >= 1)) {
    for (const Tensor& grad : grads) {
      const Tensor scale = full({}, coef, grad.options()).expand(grad.shape());
      kernels::binary_forward(kernels::BinaryOp::Mul, grad, scale, grad);
    }
  }
  return total;
}

}  // namespace maskdet::optim
