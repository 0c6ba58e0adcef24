// batch_norm (Ioffe & Szegedy 2015) as torch.nn.functional.batch_norm: training mode
// normalises with the batch statistics and updates the running ones; eval mode is a fixed
// per-channel affine map built from the running statistics.
#include <algorithm>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/batch_norm.h"

namespace maskdet {

using autograd::record;

namespace {

void check_channel_param(const Tensor& p, const Tensor& x, const char* what) {
  if (!p.defined()) return;
  const int64_t channels = x.size(1);
  MASKDET_CHECK(p.dim() == 1 && p.size(0) == channels, "batch_norm: ", what, " has shape ", shape_str(p.shape()),
                ", expected (", channels, ",) for input ", shape_str(x.shape()), " with ", channels, " channels");
  MASKDET_CHECK(p.dtype() == x.dtype(), "batch_norm: ", what, " is ", dtype_name(p.dtype()), " but the input is ",
                dtype_name(x.dtype()));
  MASKDET_CHECK(p.device() == x.device(), "batch_norm: ", what, " is on ", p.device().str(), " but the input is on ",
                x.device().str());
}

void check_inputs(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double eps) {
  MASKDET_CHECK(x.defined(), "batch_norm: undefined input");
  MASKDET_CHECK(x.dim() >= 2, "batch_norm: input must be (N, C) or (N, C, H, W), got shape ", shape_str(x.shape()));
  MASKDET_CHECK(is_floating(x.dtype()), "batch_norm: input must be float32 or float64, got ", dtype_name(x.dtype()));
  MASKDET_CHECK(eps >= 0, "batch_norm: eps must be >= 0, got ", eps);
  check_channel_param(weight, x, "weight");
  check_channel_param(bias, x, "bias");
  check_channel_param(running_mean, x, "running_mean");
  check_channel_param(running_var, x, "running_var");
  MASKDET_CHECK(running_mean.defined() == running_var.defined(),
                "batch_norm: running_mean and running_var must be given together");
  for (const Tensor* buffer : {&running_mean, &running_var}) {
    if (!buffer->defined()) continue;
    // They are updated in place, so a copy would silently lose the update.
    MASKDET_CHECK(buffer->is_contiguous(), "batch_norm: running statistics must be contiguous");
    MASKDET_CHECK(!buffer->requires_grad(), "batch_norm: running statistics are buffers and must not require grad");
  }
  if (training) {
    const int64_t per_channel = x.numel() / std::max<int64_t>(x.size(1), 1);
    MASKDET_CHECK(per_channel > 1, "batch_norm: expected more than 1 value per channel when training, got input of "
                                   "shape ", shape_str(x.shape()));
  } else {
    MASKDET_CHECK(running_mean.defined(), "batch_norm: eval mode needs running_mean and running_var");
  }
}

// The dims summed over for a per-channel quantity: all but dim 1.
std::vector<int64_t> non_channel_dims(int64_t rank) {
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < rank; ++d) dims.push_back(d);
  return dims;
}

// Shape (1, C, 1, ...) that broadcasts a (C) vector against x.
Shape channel_broadcast_shape(const Tensor& x) {
  Shape s(x.dim(), 1);
  s[1] = x.size(1);
  return s;
}

// The kernels read plain contiguous buffers; the graph is recorded on the original inputs.
Tensor contiguous_data(const Tensor& t) { return t.defined() ? t.detach().contiguous() : t; }

Tensor batch_norm_training(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                           const Tensor& running_var, double momentum, double eps) {
  const Tensor xc = contiguous_data(x), wc = contiguous_data(weight), bc = contiguous_data(bias);
  Tensor out = empty(x.shape(), x.options());
  Tensor save_mean = empty({x.size(1)}, x.options()), save_invstd = empty({x.size(1)}, x.options());
  kernels::batch_norm_forward_training(xc, wc, bc, running_mean, running_var, momentum, eps, out, save_mean,
                                       save_invstd);
  if (autograd::any_requires_grad({x, weight, bias})) {
    const bool need_x = x.requires_grad();
    const bool need_w = weight.defined() && weight.requires_grad(), need_b = bias.defined() && bias.requires_grad();
    record("BatchNormBackward", {x, weight, bias}, out, [=](const Tensor& g) -> std::vector<Tensor> {
      Tensor gx = need_x ? empty(xc.shape(), xc.options()) : Tensor();
      Tensor gw = need_w ? empty(wc.shape(), wc.options()) : Tensor();
      Tensor gb = need_b ? empty({xc.size(1)}, xc.options()) : Tensor();
      kernels::batch_norm_backward(g.contiguous(), xc, wc, save_mean, save_invstd, eps, gx, gw, gb);
      return {gx, gw, gb};
    });
  }
  return out;
}

Tensor batch_norm_eval(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, double eps) {
  const Tensor xc = contiguous_data(x), wc = contiguous_data(weight), bc = contiguous_data(bias);
  Tensor out = empty(x.shape(), x.options());
  kernels::batch_norm_forward_inference(xc, wc, bc, running_mean, running_var, eps, out);
  if (autograd::any_requires_grad({x, weight, bias})) {
    // The statistics are constants here, so out is an affine map of x per channel. Snapshot
    // them: a later training step may update the buffers before this backward runs.
    const Shape per_channel = channel_broadcast_shape(x);
    const Tensor invstd = pow(running_var.detach() + eps, -0.5).reshape(per_channel);
    const Tensor mean = running_mean.detach().clone().reshape(per_channel);
    const Tensor xd = x.detach(), wd = weight.defined() ? weight.detach().reshape(per_channel) : Tensor();
    const bool need_x = x.requires_grad();
    const bool need_w = weight.defined() && weight.requires_grad(), need_b = bias.defined() && bias.requires_grad();
    const auto reduce_dims = non_channel_dims(x.dim());
    record("BatchNormEvalBackward", {x, weight, bias}, out, [=](const Tensor& g) -> std::vector<Tensor> {
      Tensor gx = need_x ? (wd.defined() ? g * (wd * invstd) : g * invstd) : Tensor();
      Tensor gw = need_w ? sum(g * ((xd - mean) * invstd), reduce_dims) : Tensor();
      Tensor gb = need_b ? sum(g, reduce_dims) : Tensor();
      return {gx, gw, gb};
    });
  }
  return out;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  check_inputs(x, weight, bias, running_mean, running_var, training, eps);
  if (training) return batch_norm_training(x, weight, bias, running_mean, running_var, momentum, eps);
  return batch_norm_eval(x, weight, bias, running_mean, running_var, eps);
}

}  // namespace maskdet
