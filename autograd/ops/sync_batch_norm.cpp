// sync_batch_norm: batch norm's training mode (Ioffe & Szegedy 2015) with the statistics of the
// whole data-parallel batch instead of this replica's shard, as torch.nn.SyncBatchNorm. Each
// replica sums what it holds, the sums go through ReplicaSum, and every replica normalises with
// the same mean and variance; backward sums the two per-channel reductions the input gradient
// needs the same way. The sums are float64 on the host: a few values per channel.
//
//   forward:  n = sum_r n_r, mean = sum_r sum_local(x) / n, var = sum_r sum_local((x - mean)^2) / n
//             (two passes, so a large mean does not cancel the variance away), y = w * xhat + b
//   backward: replica r's loss counts w_r in the run's: with G = w_r * dy over all replicas,
//             dx = w * invstd * (dy - (sum G) / (w_r n) - xhat * (sum G xhat) / (w_r n))
//             and dw, db are this replica's own sums (data parallelism sums them with the weights).
#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/copy.h"

namespace maskdet {

using autograd::record;

namespace {

std::vector<int64_t> non_channel_dims(int64_t rank) {
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < rank; ++d) dims.push_back(d);
  return dims;
}

// (C) on any device -> C float64 values on the host.
std::vector<double> to_host(const Tensor& per_channel) {
  return per_channel.to(Device::cpu()).to(DType::Float64).contiguous().to_vector<double>();
}

// C host values -> (1, C, 1, ...) in like's dtype and device.
Tensor per_channel_tensor(const std::vector<double>& values, const Tensor& like) {
  Shape shape(like.dim(), 1);
  shape[1] = like.size(1);
  return from_vector(values, shape, {like.dtype()}).to(like.device());
}

void check_sync_inputs(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var) {
  MASKDET_CHECK(x.defined() && x.dim() >= 2, "sync_batch_norm: input must be (N, C) or (N, C, H, W), got ",
                x.defined() ? shape_str(x.shape()) : "undefined");
  MASKDET_CHECK(is_floating(x.dtype()), "sync_batch_norm: input must be float32 or float64, got ", dtype_name(x.dtype()));
  for (const Tensor* p : {&weight, &bias, &running_mean, &running_var}) {
    if (!p->defined()) continue;
    MASKDET_CHECK(p->dim() == 1 && p->size(0) == x.size(1), "sync_batch_norm: a per-channel tensor has shape ",
                  shape_str(p->shape()), ", expected (", x.size(1), ",) for input ", shape_str(x.shape()));
  }
  MASKDET_CHECK(running_mean.defined() == running_var.defined(),
                "sync_batch_norm: running_mean and running_var must be given together");
}

// running = (1 - momentum) * running + momentum * batch, in place, in the buffer's dtype and device.
void update_running(const Tensor& running, const std::vector<double>& batch, double momentum) {
  std::vector<double> values = to_host(running);
  for (size_t c = 0; c < values.size(); ++c) values[c] = (1 - momentum) * values[c] + momentum * batch[c];
  kernels::copy(from_vector(values, running.shape(), {running.dtype()}).to(running.device()), running);
}

}  // namespace

Tensor sync_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, const std::shared_ptr<ReplicaSum>& replicas, double momentum,
                       double eps) {
  check_sync_inputs(x, weight, bias, running_mean, running_var);
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
