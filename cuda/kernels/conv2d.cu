// CUDA 2-D convolution (tensor/kernels/conv2d.h) through cuDNN: NCHW float32 / float64, groups,
// dilation, the three directions on plans chosen once per convolution and cached
// (cuda/cudnn_conv_plan.h). Follows the cuDNN 9 API reference (cudnnConvolutionForward,
// cudnnConvolutionBackwardData, cudnnConvolutionBackwardFilter, cudnnAddTensor).
//
// Float32 uses TF32 tensor cores when cuda::allow_tf32() (the default, as PyTorch's cuDNN
// convolutions), and full float32 FMA math otherwise. Results differ from the CPU's im2col /
// Winograd sums in the last bits (another summation order); with TF32 by ~1e-3 relative.
//
// Empty tensors never reach cuDNN, which rejects zero-sized descriptors: a convolution with
// nothing to sum writes zeros (plus the bias) itself.
#include "cuda/cudnn_conv_plan.h"
#include "cuda/kernels/nn_common.cuh"
#include "tensor/kernels/conv2d.h"
#include "tensor/kernels/conv2d_checks.h"

namespace maskdet::cuda {

namespace {

// True when every tensor has elements, the only case cuDNN accepts.
bool all_nonempty(const ConvShape& s) {
  for (int64_t v : {s.batch, s.channels, s.height, s.width, s.out_channels, s.kernel_h, s.kernel_w, s.out_h, s.out_w})
    if (v == 0) return false;
  return true;
}

// out += bias broadcast over (N, OH, OW).
void add_bias(const Tensor& bias, const Tensor& out, const CudnnScalars& scalars) {
  const cudnnDataType_t type = cudnn_data_type(out.dtype(), "conv2d_forward");
  TensorDescriptor bias_desc, out_desc;
  bias_desc.set(type, 1, bias.size(0), 1, 1, "bias");
  out_desc.set(type, out.size(0), out.size(1), out.size(2), out.size(3), "out");
  CUDNN_CHECK(cudnnAddTensor(cudnn_handle(), scalars.one(), bias_desc.get(), bias.raw_data(), scalars.one(),
                             out_desc.get(), out.raw_data()));
}

void* workspace_for(const ConvPlan& plan) { return plan.workspace_bytes > 0 ? workspace(plan.workspace_bytes) : nullptr; }

}  // namespace

// x: (N, C, H, W); weight: (O, C / G, KH, KW); bias: (O) or undefined; out: (N, O, OH, OW).
// All contiguous, one float dtype, one GPU. OVERWRITES out.
void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out,
                    const Conv2dParams& params) {
  const ConvShape s = kernels::check_conv2d_forward_args(x, weight, bias, out, params, Backend::Cuda);
  cudnn_data_type(x.dtype(), "conv2d_forward");
  if (out.numel() == 0) return;
  DeviceGuard guard(x.device().index);
  const CudnnScalars scalars(x.dtype());
  if (!all_nonempty(s)) {
    // No input channel or no kernel tap: every output is the bias alone.
    zero_fill(out);
  } else {
    const ConvPlan& plan =
        conv_plan(ConvDirection::Forward, x.dtype(), s, {x.raw_data(), weight.raw_data(), out.raw_data()});
    CUDNN_CHECK(cudnnConvolutionForward(cudnn_handle(), scalars.one(), plan.x.get(), x.raw_data(), plan.w.get(),
                                        weight.raw_data(), plan.conv.get(),
                                        static_cast<cudnnConvolutionFwdAlgo_t>(plan.algo), workspace_for(plan),
                                        plan.workspace_bytes, scalars.zero(), plan.y.get(), out.raw_data()));
  }
  if (bias.defined()) add_bias(bias, out, scalars);
}

// grad_out: (N, O, OH, OW); weight: (O, C / G, KH, KW); grad_x: (N, C, H, W). OVERWRITES grad_x.
void conv2d_backward_data(const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x,
                          const Conv2dParams& params) {
  const ConvShape s = kernels::check_conv2d_backward_data_args(grad_out, weight, grad_x, params, Backend::Cuda);
  cudnn_data_type(grad_x.dtype(), "conv2d_backward_data");
  if (grad_x.numel() == 0) return;
  DeviceGuard guard(grad_x.device().index);
  if (!all_nonempty(s)) {
    zero_fill(grad_x);  // no output depends on x
    return;
  }
  const CudnnScalars scalars(grad_x.dtype());
  const ConvPlan& plan = conv_plan(ConvDirection::BackwardData, grad_x.dtype(), s,
                                   {grad_x.raw_data(), weight.raw_data(), grad_out.raw_data()});
  CUDNN_CHECK(cudnnConvolutionBackwardData(cudnn_handle(), scalars.one(), plan.w.get(), weight.raw_data(),
                                           plan.y.get(), grad_out.raw_data(), plan.conv.get(),
                                           static_cast<cudnnConvolutionBwdDataAlgo_t>(plan.algo), workspace_for(plan),
                                           plan.workspace_bytes, scalars.zero(), plan.x.get(), grad_x.raw_data()));
}

// grad_out: (N, O, OH, OW); x: (N, C, H, W); grad_weight: (O, C / G, KH, KW). OVERWRITES grad_weight.
void conv2d_backward_filter(const Tensor& grad_out, const Tensor& x, const Tensor& grad_weight,
                            const Conv2dParams& params) {
  const ConvShape s = kernels::check_conv2d_backward_filter_args(grad_out, x, grad_weight, params, Backend::Cuda);
  cudnn_data_type(x.dtype(), "conv2d_backward_filter");
  if (grad_weight.numel() == 0) return;
  DeviceGuard guard(x.device().index);
  if (!all_nonempty(s)) {
    zero_fill(grad_weight);  // an empty batch (or output) contributes nothing
    return;
  }
  const CudnnScalars scalars(x.dtype());
  const ConvPlan& plan = conv_plan(ConvDirection::BackwardFilter, x.dtype(), s,
                                   {x.raw_data(), grad_weight.raw_data(), grad_out.raw_data()});
  CUDNN_CHECK(cudnnConvolutionBackwardFilter(cudnn_handle(), scalars.one(), plan.x.get(), x.raw_data(), plan.y.get(),
                                             grad_out.raw_data(), plan.conv.get(),
                                             static_cast<cudnnConvolutionBwdFilterAlgo_t>(plan.algo),
                                             workspace_for(plan), plan.workspace_bytes, scalars.zero(), plan.w.get(),
                                             grad_weight.raw_data()));
}

}  // namespace maskdet::cuda
