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
// - The backward passes the saved mean and inverse std, so cuDNN need not recompute the
//   statistics, and the forward's epsilon, which cuDNN's reference asks to be the same in the
//   forward and the backward (the kernel's signature carries it for this reason alone). The
//   CPU-vs-CUDA test runs with eps 0.1, far from the usual 1e-5, so a backward that got another
//   epsilon and used it would fail there.
// The CPU accumulates in double, cuDNN may not for float32 data: the tests allow 1e-4 relative
// for float32 and 1e-10 for float64.
#include <cstdint>

#include "cuda/cudnn_conv_plan.h"
#include "cuda/kernels/nn_common.cuh"
#include "tensor/creation.h"
#include "tensor/kernels/batch_norm.h"
#include "tensor/kernels/batch_norm_checks.h"
#include "tensor/kernels/copy.h"

namespace maskdet::cuda {

namespace {

using kernels::BatchNormLayout;

// What cuDNN adds to the kernels' checks (tensor/kernels/batch_norm_checks.h): a float dtype and
// its smallest epsilon.
void check_cudnn_dtype(const Tensor& x, const char* kernel) { cudnn_data_type(x.dtype(), kernel); }
void check_cudnn_epsilon(double eps, const char* kernel) {
  MASKDET_CHECK(eps >= CUDNN_BN_MIN_EPSILON, kernel, ": eps ", eps, " is below cuDNN's minimum ",
                CUDNN_BN_MIN_EPSILON);
}

// The x descriptor (N, C, S, 1) and the per-channel one cuDNN derives from it (1, C, 1, 1).
struct BatchNormDescriptors {
  TensorDescriptor x;
  TensorDescriptor channel;
  BatchNormDescriptors(const Tensor& t, const BatchNormLayout& l, const char* kernel) {
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
  const BatchNormLayout l = kernels::check_batch_norm_forward_training_args(
      x, weight, bias, running_mean, running_var, out, save_mean, save_invstd, Backend::Cuda);
  check_cudnn_dtype(x, kernel);
  check_cudnn_epsilon(eps, kernel);
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
  const BatchNormLayout l =
      kernels::check_batch_norm_forward_inference_args(x, weight, bias, running_mean, running_var, out, Backend::Cuda);
  check_cudnn_dtype(x, kernel);
  check_cudnn_epsilon(eps, kernel);
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
// forward; eps: the forward's; grad_x: (N, C, *spatial) or undefined; grad_weight, grad_bias: (C)
// or undefined. Overwrites the defined outputs.
void batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight, const Tensor& save_mean,
                         const Tensor& save_invstd, double eps, const Tensor& grad_x, const Tensor& grad_weight,
                         const Tensor& grad_bias) {
  constexpr const char* kernel = "batch_norm_backward";
  const BatchNormLayout l = kernels::check_batch_norm_backward_args(grad_out, x, weight, save_mean, save_invstd,
                                                                    grad_x, grad_weight, grad_bias, Backend::Cuda);
  check_cudnn_dtype(x, kernel);
  check_cudnn_epsilon(eps, kernel);
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
      scale.raw_data(), dscale.raw_data(), dshift.raw_data(), eps, save_mean.raw_data(),
      save_invstd.raw_data()));
}

}  // namespace maskdet::cuda
