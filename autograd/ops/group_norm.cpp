// group_norm (Wu & He 2018, "Group Normalization") as torch.nn.functional.group_norm: the same
// normalisation in training and inference, so no running statistics and no mode flag.
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/group_norm.h"

namespace maskdet {

using autograd::record;

namespace {

void check_channel_param(const Tensor& p, const Tensor& x, const char* what) {
  if (!p.defined()) return;
  MASKDET_CHECK(p.dim() == 1 && p.size(0) == x.size(1), "group_norm: ", what, " has shape ", shape_str(p.shape()),
                ", expected (", x.size(1), ",) for input ", shape_str(x.shape()));
  MASKDET_CHECK(p.dtype() == x.dtype(), "group_norm: ", what, " is ", dtype_name(p.dtype()), " but the input is ",
                dtype_name(x.dtype()));
  MASKDET_CHECK(p.device() == x.device(), "group_norm: ", what, " is on ", p.device().str(), " but the input is on ",
                x.device().str());
}

// The kernels read plain contiguous buffers; the graph is recorded on the original inputs.
Tensor contiguous_data(const Tensor& t) {
  if (!t.defined()) return t;
  NoGradGuard no_grad;
  return t.detach().contiguous();
}

}  // namespace

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  MASKDET_CHECK(x.defined(), "group_norm: undefined input");
  MASKDET_CHECK(x.dim() >= 2, "group_norm: input must be (N, C, *spatial), got shape ", shape_str(x.shape()));
  MASKDET_CHECK(is_floating(x.dtype()), "group_norm: input must be float32 or float64, got ", dtype_name(x.dtype()));
  MASKDET_CHECK(num_groups > 0 && x.size(1) % num_groups == 0, "group_norm: num_groups (", num_groups,
                ") must divide the number of channels (", x.size(1), ") of input ", shape_str(x.shape()));
  MASKDET_CHECK(eps >= 0, "group_norm: eps must be >= 0, got ", eps);
  check_channel_param(weight, x, "weight");
  check_channel_param(bias, x, "bias");

  const Tensor xc = contiguous_data(x), wc = contiguous_data(weight), bc = contiguous_data(bias);
  Tensor out = empty(x.shape(), x.options());
  Tensor save_mean = empty({x.size(0), num_groups}, x.options());
  Tensor save_rstd = empty({x.size(0), num_groups}, x.options());
  kernels::group_norm_forward(xc, wc, bc, num_groups, eps, out, save_mean, save_rstd);
  if (autograd::any_requires_grad({x, weight, bias})) {
    const bool need_x = x.requires_grad();
    const bool need_w = weight.defined() && weight.requires_grad(), need_b = bias.defined() && bias.requires_grad();
    record("GroupNormBackward", {x, weight, bias}, out, [=](const Tensor& g) -> std::vector<Tensor> {
      Tensor gx = need_x ? empty(xc.shape(), xc.options()) : Tensor();
      Tensor gw = need_w ? empty(wc.shape(), wc.options()) : Tensor();
      Tensor gb = need_b ? empty(bc.shape(), bc.options()) : Tensor();
      kernels::group_norm_backward(g.contiguous(), xc, wc, save_mean, save_rstd, num_groups, gx, gw, gb);
      return {gx, gw, gb};
    });
  }
  return out;
}

}  // namespace maskdet
