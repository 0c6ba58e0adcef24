// CUDA batch normalisation (tensor/kernels/batch_norm.h) through cuDNN's spatial batch norm:
// cudnnBatchNormalizationForwardTraining / ForwardInference / Backward in
// CUDNN_BATCHNORM_SPATIAL mode (statistics per channel over N and every spatial position),
// float32 and float64 (cuDNN derives a double parameter descriptor for double data). Follows
// the cuDNN 9 API reference for those calls and for cudnnDeriveBNTensorDescriptor.
//
// How the kernel contract maps onto cuDNN:
// - x of (N, C, *spatial) is described as (N, C, S, 1), S the product of the spatial sizes;
//   (N, C) becomes (N, C, 1, 1).
// - exponentialAverageFactor = momentum: cuDNN updates running = (1 - factor) * running +
//   factor * batch, and its running variance takes the unbiased (divide by M - 1) batch
//   variance, as the CPU kernel and PyTorch do (PyTorch hands its momentum to cuDNN as is).
// - resultSaveInvVariance is 1 / sqrt(var + eps), the kernel's save_invstd.
// - No affine (undefined weight / bias): temporary ones / zeros. Undefined running statistics:
//   null pointers, which cuDNN accepts only for both at once, so a lone one gets a scratch
//   partner.
// - The backward passes the saved mean and inverse std, so cuDNN does not recompute the
//   statistics and the epsilon it asks for (absent from the kernel's signature) goes unused.
//   The CPU-vs-CUDA test runs with eps far from the value passed here to catch it if it were.
// The CPU accumulates in double, cuDNN may not for float32 data: the tests allow 1e-4 relative
// for float32 and 1e-10 for float64.
#include <cstdint>

#include "cuda/cudnn_conv_plan.h"
#include "cuda/kernels/nn_common.cuh"
#include "tensor/creation.h"
#include "tensor/kernels/batch_norm.h"
#include "tensor/kernels/copy.h"

namespace maskdet::cuda {

namespace {

// The epsilon handed to cudnnBatchNormalizationBackward (see the file comment: unused there).
constexpr double kBackwardEpsilon = 1e-5;

// x viewed as (N, C, S).
struct ChannelLayout {
  int64_t batch = 0, channels = 0, spatial = 1;
  int64_t per_channel() const { return batch * spatial; }
};

ChannelLayout channel_layout(const Tensor& x, const char* kernel) {
  check_on_device(x, x.device(), kernel, "x");
  MASKDET_CHECK(x.dim() >= 2, kernel, ": x must be (N, C) or (N, C, H, W), got shape ", shape_str(x.shape()));
  MASKDET_CHECK(x.is_contiguous(), kernel, ": x must be contiguous");
  cudnn_data_type(x.dtype(), kernel);
  ChannelLayout l;
  l.batch = x.size(0);
  l.channels = x.size(1);
  for (int64_t d = 2; d < x.dim(); ++d) l.spatial *= x.size(d);
  return l;
}

ChannelLayout check_forward_operands(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out,
                                     const char* kernel) {
  const ChannelLayout l = channel_layout(x, kernel);
  check_operand(out, x, x.shape(), kernel, "out", false);
  check_operand(weight, x, {l.channels}, kernel, "weight", true);
  check_operand(bias, x, {l.channels}, kernel, "bias", true);
  return l;
}

// The x descriptor (N, C, S, 1) and the per-channel one cuDNN derives from it (1, C, 1, 1).
struct BatchNormDescriptors {
  TensorDescriptor x;
  TensorDescriptor channel;
  BatchNormDescriptors(const Tensor& t, const ChannelLayout& l, const char* kernel) {
    // Some of cuDNN's batch-norm kernels index with 32 bits (PyTorch keeps larger inputs away
    // from them for the same reason).
    MASKDET_CHECK(t.numel() < INT32_MAX, kernel, ": x of shape ", shape_str(t.shape()),
                  " has 2^31 elements or more, beyond cuDNN's batch norm");
    x.set(cudnn_data_type(t.dtype(), kernel), l.batch, l.channels, l.spatial, 1, "x");
    CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(channel.get(), x.get(), CUDNN_BATCHNORM_SPATIAL));
  }
};

// t itself, or a (C) tensor of `value` on x's device when t is undefined.
Tensor or_filled(const Tensor& t, const Tensor& x, int64_t channels, double value) {
  if (t.defined()) return t;
  Tensor filled = empty({channels}, x.options());
  cuda::fill(filled, value);
  return filled;
}

// t itself, or scratch of `shape` on x's device (contents never read by the caller).
Tensor or_scratch(const Tensor& t, const Tensor& x, const Shape& shape) {
  return t.defined() ? t : empty(shape, x.options());
}

}  // namespace

// x, out: (N, C, *spatial); weight, bias, running_mean, running_var: (C) or undefined;
// save_mean, save_invstd: (C). All contiguous, x's dtype, one GPU. Overwrites out, save_mean,
// save_invstd; updates the running statistics in place.
void batch_norm_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                 const Tensor& running_mean, const Tensor& running_var, double momentum, double eps,
                                 const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd) {
  constexpr const char* kernel = "batch_norm_forward_training";
  const ChannelLayout l = check_forward_operands(x, weight, bias, out, kernel);
  check_operand(running_mean, x, {l.channels}, kernel, "running_mean", true);
  check_operand(running_var, x, {l.channels}, kernel, "running_var", true);
  check_operand(save_mean, x, {l.channels}, kernel, "save_mean", false);
  check_operand(save_invstd, x, {l.channels}, kernel, "save_invstd", false);
  MASKDET_CHECK(l.per_channel() > 1, kernel, ": needs more than one value per channel, got x of shape ",
                shape_str(x.shape()));
  MASKDET_CHECK(eps >= CUDNN_BN_MIN_EPSILON, kernel, ": eps ", eps, " is below cuDNN's minimum ",
                CUDNN_BN_MIN_EPSILON);
  if (l.channels == 0) return;
  DeviceGuard guard(x.device().index);
  const BatchNormDescriptors desc(x, l, kernel);
  const CudnnScalars scalars(x.dtype());
  const Tensor scale = or_filled(weight, x, l.channels, 1.0);
  const Tensor shift = or_filled(bias, x, l.channels, 0.0);
  // Both running buffers or neither (see the file comment).
  Tensor rmean = running_mean, rvar = running_var;
  if (rmean.defined() != rvar.defined()) {
    Tensor& missing = rmean.defined() ? rvar : rmean;
    missing = or_filled(Tensor(), x, l.channels, 0.0);
  }
  CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
      cudnn_handle(), CUDNN_BATCHNORM_SPATIAL, scalars.one(), scalars.zero(), desc.x.get(), x.raw_data(),
      desc.x.get(), out.raw_data(), desc.channel.get(), scale.raw_data(), shift.raw_data(), momentum,
      rmean.defined() ? rmean.raw_data() : nullptr, rvar.defined() ? rvar.raw_data() : nullptr, eps,
      save_mean.raw_data(), save_invstd.raw_data()));
}

// x, out: (N, C, *spatial); weight, bias: (C) or undefined; running_mean, running_var: (C).
// Overwrites out.
void batch_norm_forward_inference(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                  const Tensor& running_mean, const Tensor& running_var, double eps,
                                  const Tensor& out) {
  constexpr const char* kernel = "batch_norm_forward_inference";
  const ChannelLayout l = check_forward_operands(x, weight, bias, out, kernel);
  check_operand(running_mean, x, {l.channels}, kernel, "running_mean", false);
  check_operand(running_var, x, {l.channels}, kernel, "running_var", false);
  MASKDET_CHECK(eps >= CUDNN_BN_MIN_EPSILON, kernel, ": eps ", eps, " is below cuDNN's minimum ",
                CUDNN_BN_MIN_EPSILON);
  if (x.numel() == 0) return;
  DeviceGuard guard(x.device().index);
  const BatchNormDescriptors desc(x, l, kernel);
  const CudnnScalars scalars(x.dtype());
  const Tensor scale = or_filled(weight, x, l.channels, 1.0);
  const Tensor shift = or_filled(bias, x, l.channels, 0.0);
  CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
      cudnn_handle(), CUDNN_BATCHNORM_SPATIAL, scalars.one(), scalars.zero(), desc.x.get(), x.raw_data(),
      desc.x.get(), out.raw_data(), desc.channel.get(), scale.raw_data(), shift.raw_data(), running_mean.raw_data(),
      running_var.raw_data(), eps));
}

// grad_out, x: (N, C, *spatial); weight: (C) or undefined; save_mean, save_invstd: (C) from the
// forward; grad_x: (N, C, *spatial) or undefined; grad_weight, grad_bias: (C) or undefined.
// Overwrites the defined outputs.
void batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight, const Tensor& save_mean,
                         const Tensor& save_invstd, const Tensor& grad_x, const Tensor& grad_weight,
                         const Tensor& grad_bias) {
  constexpr const char* kernel = "batch_norm_backward";
  const ChannelLayout l = channel_layout(x, kernel);
  check_operand(grad_out, x, x.shape(), kernel, "grad_out", false);
  check_operand(grad_x, x, x.shape(), kernel, "grad_x", true);
  check_operand(weight, x, {l.channels}, kernel, "weight", true);
  check_operand(save_mean, x, {l.channels}, kernel, "save_mean", false);
  check_operand(save_invstd, x, {l.channels}, kernel, "save_invstd", false);
  check_operand(grad_weight, x, {l.channels}, kernel, "grad_weight", true);
  check_operand(grad_bias, x, {l.channels}, kernel, "grad_bias", true);
  if (!grad_x.defined() && !grad_weight.defined() && !grad_bias.defined()) return;
  if (l.channels == 0) return;
  DeviceGuard guard(x.device().index);
  if (x.numel() == 0) {
    // An empty batch: the parameter gradients are empty sums, grad_x has no elements.
    zero_fill(grad_weight);
    zero_fill(grad_bias);
    return;
  }
  const BatchNormDescriptors desc(x, l, kernel);
  const CudnnScalars scalars(x.dtype());
  const Tensor scale = or_filled(weight, x, l.channels, 1.0);
  // cuDNN writes all three gradients; unwanted ones go to scratch.
  const Tensor dx = or_scratch(grad_x, x, x.shape());
  const Tensor dscale = or_scratch(grad_weight, x, {l.channels});
  const Tensor dshift = or_scratch(grad_bias, x, {l.channels});
  CUDNN_CHECK(cudnnBatchNormalizationBackward(
      cudnn_handle(), CUDNN_BATCHNORM_SPATIAL, scalars.one(), scalars.zero(), scalars.one(), scalars.zero(),
      desc.x.get(), x.raw_data(), desc.x.get(), grad_out.raw_data(), desc.x.get(), dx.raw_data(), desc.channel.get(),
      scale.raw_data(), dscale.raw_data(), dshift.raw_data(), kBackwardEpsilon, save_mean.raw_data(),
      save_invstd.raw_data()));
}

}  // namespace maskdet::cuda
