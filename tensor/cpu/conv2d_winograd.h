// Winograd minimal filtering F(2x2, 3x3) for 3x3, stride-1 convolutions (Lavin and Gray 2016,
// "Fast Algorithms for Convolutional Neural Networks"). Each 2x2 output tile comes from a 4x4
// input tile with 16 multiplications per channel pair instead of 36; summed over channels,
// those multiplications are 16 GEMMs, one per position p of the 4x4 transformed tile:
//   forward          M[p] (O, tiles)  = U[p] (O, C) @ V[p] (C, tiles)
//     U = G w G^T (weights), V = B^T d B (input tiles d), out tile = A^T M A
//   backward filter  dU[p] (O, C)     = dM[p] (O, tiles) @ V[p]^T,  dM = A dY A^T,  dw = G^T dU G
//   backward data    the forward pass of grad_out with the kernel flipped and its channel axes
//                    swapped, padded by 2 - pad (hence padding <= 2)
// It does 2.25x fewer multiplications than im2col + GEMM, which is what lets the CPU backend
// keep up with PyTorch's (oneDNN) convolutions on RetinaNet's 3x3 head and FPN layers.
#pragma once
#include <cstdint>

#include "tensor/cpu/conv_geometry.h"

namespace maskdet::cpu {

// Whether these routines handle the convolution: 3x3, stride 1, no dilation, one group,
// padding <= 2, and enough channels that the tile transforms cost less than they save.
bool winograd_applies(const ConvGeometry& g);

// The passes work through the batch's tiles in chunks whose transformed input and output
// (16 x (C + O) x tiles elements) fit this many bytes of workspace. Each chunk costs a few
// parallel regions, whose fork and join dominate when the cores are shared, so the default
// is large: one chunk for RetinaNet's 256-channel levels at batch 2 and 512x512 images.
constexpr int64_t kWinogradChunkBytes = int64_t{128} << 20;

// The three passes, with the contracts of conv2d_forward / _backward_data / _backward_filter
// (tensor/kernels/conv2d.h) on dense buffers; bias may be null. Each OVERWRITES its output.
template <class T>
void winograd_forward(const T* x, const T* weight, const T* bias, T* out, const ConvGeometry& g,
                      int64_t chunk_bytes = kWinogradChunkBytes);
template <class T>
void winograd_backward_data(const T* grad_out, const T* weight, T* grad_x, const ConvGeometry& g,
                            int64_t chunk_bytes = kWinogradChunkBytes);
template <class T>
void winograd_backward_filter(const T* grad_out, const T* x, T* grad_weight, const ConvGeometry& g,
                              int64_t chunk_bytes = kWinogradChunkBytes);

}  // namespace maskdet::cpu
