// Direct depthwise convolution (groups == channels == out_channels: one KHxKW filter per
// channel, as in MobileNetV2's inverted residuals, Sandler et al. 2018) without im2col. Lowered
// to GEMM, a depthwise layer is C tiny (1 x KH*KW) @ (KH*KW x OH*OW) products plus an im2col
// that copies the input KH*KW times: memory traffic, not arithmetic, and it was a quarter of
// MobileNetV2 RetinaNet's training time.
//
// Each (image, channel) plane is first copied into a zero-padded buffer split by column phase
// (stride s: P[q][r][j] = padded[r][j*s + q]), so that every tap (kh, kw) of every output row
// reads one contiguous run, P[kw % s][oh*s + kh][kw / s + ow] for ow = 0..OW-1, with no bounds
// test. The passes are then short vector loops over rows that stay in L1:
//   forward          out[oh, :]  += w[kh, kw] * P[..][oh*s + kh][kw/s + :]        (axpy)
//   backward data    GP[..][oh*s + kh][kw/s + :] += w[kh, kw] * grad_out[oh, :]   (axpy),
//                    then grad_x = GP without its padding and phases
//   backward filter  grad_w[kh, kw] += grad_out[oh, :] . P[..][oh*s + kh][kw/s + :] (dot)
// Forward and backward data run planes on the threads; backward filter runs channels (each
// thread sums its channels over the batch, so no reduction between threads).
#pragma once
#include <cstdint>

#include "tensor/cpu/conv_geometry.h"

namespace maskdet::cpu {

// Whether these routines handle the convolution: one filter per channel (groups == channels ==
// out_channels) and no dilation; any kernel size, stride and padding.
bool depthwise_applies(const ConvGeometry& g);

// The three passes, with the contracts of conv2d_forward / _backward_data / _backward_filter
// (tensor/kernels/conv2d.h) on dense NCHW buffers; bias may be null. Each OVERWRITES its output.
//   x, grad_x: (N, C, H, W)   weight, grad_weight: (C, 1, KH, KW)   out, grad_out: (N, C, OH, OW)
template <class T>
void depthwise_forward(const T* x, const T* weight, const T* bias, T* out, const ConvGeometry& g);
template <class T>
void depthwise_backward_data(const T* grad_out, const T* weight, T* grad_x, const ConvGeometry& g);
template <class T>
void depthwise_backward_filter(const T* grad_out, const T* x, T* grad_weight, const ConvGeometry& g);

}  // namespace maskdet::cpu
