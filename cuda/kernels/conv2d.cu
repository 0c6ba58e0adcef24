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

namespace maskdet::cuda {

namespace {

// The checks of the CPU's conv_geometry (tensor/cpu/conv2d.cpp), in its words, plus the device.
ConvShape conv_shape(const Tensor& x, const Tensor& weight, const Tensor& out, const Conv2dParams& p,
                     const char* kernel) {
  check_on_device(x, x.device(), kernel, "x");
  check_on_device(weight, x.device(), kernel, "weight");
  check_on_device(out, x.device(), kernel, "out");
  MASKDET_CHECK(x.dim() == 4 && weight.dim() == 4 && out.dim() == 4, kernel, ": expected 4-D tensors, got x ",
                shape_str(x.shape()), ", weight ", shape_str(weight.shape()), ", out ", shape_str(out.shape()));
  MASKDET_CHECK(x.dtype() == weight.dtype() && x.dtype() == out.dtype(), kernel, ": dtypes differ");
  MASKDET_CHECK(x.is_contiguous() && weight.is_contiguous() && out.is_contiguous(), kernel,
                ": tensors must be contiguous");
  const ConvShape s{x.size(0),      x.size(1),
                    x.size(2),      x.size(3),
                    weight.size(0), weight.size(2),
                    weight.size(3), p.out_h(x.size(2), weight.size(2)),
                    p.out_w(x.size(3), weight.size(3)), p};
  MASKDET_CHECK(p.groups >= 1 && s.channels % p.groups == 0 && s.out_channels % p.groups == 0 &&
                    weight.size(1) == s.channels / p.groups,
                kernel, ": weight ", shape_str(weight.shape()), " does not fit x ", shape_str(x.shape()),
                " with groups ", p.groups);
  MASKDET_CHECK(p.stride_h >= 1 && p.stride_w >= 1 && p.dilation_h >= 1 && p.dilation_w >= 1 && p.pad_h >= 0 &&
                    p.pad_w >= 0,
                kernel, ": stride ", shape_str({p.stride_h, p.stride_w}), " and dilation ",
                shape_str({p.dilation_h, p.dilation_w}), " must be >= 1 and padding ", shape_str({p.pad_h, p.pad_w}),
                " >= 0");
  const Shape expected{s.batch, s.out_channels, s.out_h, s.out_w};
  MASKDET_CHECK(out.shape() == expected, kernel, ": output has shape ", shape_str(out.shape()), ", expected ",
                shape_str(expected));
  return s;
}

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
  const ConvShape s = conv_shape(x, weight, out, params, "conv2d_forward");
  if (bias.defined()) {
    check_on_device(bias, x.device(), "conv2d_forward", "bias");
    MASKDET_CHECK(bias.dim() == 1 && bias.size(0) == s.out_channels && bias.is_contiguous() &&
                      bias.dtype() == x.dtype(),
                  "conv2d_forward: bias has shape ", shape_str(bias.shape()), ", expected ",
                  shape_str({s.out_channels}));
  }
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
  const ConvShape s = conv_shape(grad_x, weight, grad_out, params, "conv2d_backward_data");
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
  const ConvShape s = conv_shape(x, grad_weight, grad_out, params, "conv2d_backward_filter");
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
