// batch_norm (Ioffe & Szegedy 2015) as torch.nn.functional.batch_norm: training mode
// normalises with the batch statistics and updates the running ones; eval mode is a fixed
// per-channel affine map built from the running statistics. sync_batch_norm, at the end, is
// training mode over the batches of every replica of a data-parallel run.
#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/batch_norm.h"
#include "tensor/kernels/copy.h"

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

// What both modes and sync_batch_norm ask of the input, the per-channel tensors and eps.
void check_tensors(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                   const Tensor& running_var, double eps) {
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
}

void check_inputs(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double eps) {
  check_tensors(x, weight, bias, running_mean, running_var, eps);
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

// (C) on any device -> C float64 values on the host.
std::vector<double> to_host(const Tensor& per_channel) {
  return per_channel.to(Device::cpu()).to(DType::Float64).contiguous().to_vector<double>();
}

// C host values -> (1, C, 1, ...) in like's dtype and device.
Tensor per_channel_tensor(const std::vector<double>& values, const Tensor& like) {
  return from_vector(values, channel_broadcast_shape(like), {like.dtype()}).to(like.device());
}

// running = (1 - momentum) * running + momentum * batch, in place, in the buffer's dtype and device.
void update_running(const Tensor& running, const std::vector<double>& batch, double momentum) {
  std::vector<double> values = to_host(running);
  for (size_t c = 0; c < values.size(); ++c) values[c] = (1 - momentum) * values[c] + momentum * batch[c];
  kernels::copy(from_vector(values, running.shape(), {running.dtype()}).to(running.device()), running);
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

// sync_batch_norm: training mode with the statistics of the whole data-parallel batch instead of
// this replica's shard, as torch.nn.SyncBatchNorm. Each replica sums what it holds, the sums go
// through ReplicaSum, and every replica normalises with the same mean and variance; backward sums
// the two per-channel reductions the input gradient needs the same way. The sums are float64 on
// the host: a few values per channel.
//
//   forward:  n = sum_r n_r, mean = sum_r sum_local(x) / n, var = sum_r sum_local((x - mean)^2) / n
//             (two passes, so a large mean does not cancel the variance away), y = w * xhat + b
//   backward: replica r's loss counts w_r in the run's: with G = w_r * dy over all replicas,
//             dx = w * invstd * (dy - (sum G) / (w_r n) - xhat * (sum G xhat) / (w_r n))
//             and dw, db are this replica's own sums (data parallelism sums them with the weights).
Tensor sync_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, const std::shared_ptr<ReplicaSum>& replicas, double momentum,
                       double eps) {
  check_tensors(x, weight, bias, running_mean, running_var, eps);
  MASKDET_CHECK(replicas != nullptr, "sync_batch_norm: no replicas to synchronise with");
  const int64_t channels = x.size(1);
  const auto dims = non_channel_dims(x.dim());
  const Tensor xd = x.detach();
  Tensor mean, invstd;
  double count = 0;  // values per channel over all the replicas
  {
    NoGradGuard no_grad;
    // Pass 1: the count and the sum of every replica, so each knows the run's mean.
    std::vector<double> sums = to_host(sum(xd, dims));
    sums.push_back(static_cast<double>(x.numel() / channels));
    replicas->sum(sums, "sync batch norm: per-channel sums and the count");
    const double n = count = sums.back();
    MASKDET_CHECK(n > 1, "sync_batch_norm: expected more than 1 value per channel over the replicas, got ", n);
    std::vector<double> batch_mean(sums.begin(), sums.end() - 1);
    for (double& m : batch_mean) m /= n;
    mean = per_channel_tensor(batch_mean, x);
    // Pass 2: squared deviations from that mean.
    const Tensor centered = xd - mean;
    std::vector<double> squares = to_host(sum(centered * centered, dims));
    replicas->sum(squares, "sync batch norm: per-channel squared deviations");
    std::vector<double> batch_invstd(static_cast<size_t>(channels)), unbiased(static_cast<size_t>(channels));
    for (size_t c = 0; c < squares.size(); ++c) {
      batch_invstd[c] = 1 / std::sqrt(squares[c] / n + eps);
      unbiased[c] = squares[c] / (n - 1);
    }
    invstd = per_channel_tensor(batch_invstd, x);
    if (running_mean.defined()) {
      update_running(running_mean, batch_mean, momentum);
      update_running(running_var, unbiased, momentum);
    }
  }
  const Shape per_channel = mean.shape();
  const Tensor wd = weight.defined() ? weight.detach().reshape(per_channel) : Tensor();
  const Tensor bd = bias.defined() ? bias.detach().reshape(per_channel) : Tensor();
  Tensor out;
  {
    NoGradGuard no_grad;
    out = (xd - mean) * invstd;
    if (wd.defined()) out = out * wd;
    if (bd.defined()) out = out + bd;
  }
  if (autograd::any_requires_grad({x, weight, bias})) {
    const bool need_x = x.requires_grad();
    const bool need_w = weight.defined() && weight.requires_grad(), need_b = bias.defined() && bias.requires_grad();
    record("SyncBatchNormBackward", {x, weight, bias}, out, [=](const Tensor& g) -> std::vector<Tensor> {
      // xhat again from x: cheaper to recompute than to keep a second activation-sized tensor.
      const Tensor xhat = (xd - mean) * invstd;
      const Tensor sum_dy = sum(g, dims), sum_dy_xhat = sum(g * xhat, dims);
      Tensor gx;
      if (need_x) {
        // need_x is the same on every replica (one model), so all of them take part.
        std::vector<double> shared = to_host(sum_dy), second = to_host(sum_dy_xhat);
        shared.insert(shared.end(), second.begin(), second.end());
        const double weight_here = replicas->loss_weight();
        for (double& v : shared) v *= weight_here;
        replicas->sum(shared, "sync batch norm: per-channel gradient sums");
        std::vector<double> mean_dy(shared.begin(), shared.begin() + channels),
            mean_dy_xhat(shared.begin() + channels, shared.end());
        const double scale = 1 / (weight_here * count);
        for (double& v : mean_dy) v *= scale;
        for (double& v : mean_dy_xhat) v *= scale;
        gx = g - per_channel_tensor(mean_dy, xd) - xhat * per_channel_tensor(mean_dy_xhat, xd);
        gx = gx * (wd.defined() ? wd * invstd : invstd);
      }
      return {gx, need_w ? sum_dy_xhat : Tensor(), need_b ? sum_dy : Tensor()};
    });
  }
  return out;
}

}  // namespace maskdet
