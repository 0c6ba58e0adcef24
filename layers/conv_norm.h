// A convolution followed by its norm layer, computed as one convolution when the norm is frozen.
// FrozenBatchNorm2d is a fixed per-channel affine map y = x * scale + shift, so
//   norm(conv(x, W, b)) = conv(x, W * scale, b * scale + shift)
// (scale broadcast over each output channel's filter): the same function with one pass over the
// activations instead of three (conv, multiply, add) and their backward passes. The weight's
// gradient flows through the product W * scale, so a trainable convolution keeps training.
// Fine-tuned detection backbones (torchvision's, maskdet's MobileNetV2 and ResNet) are built of
// such pairs.
#pragma once
#include "layers/conv2d.h"
#include "layers/module.h"

namespace maskdet::nn {

// x: (N, C, H, W) -> norm(conv(x)); folded when `norm` is a FrozenBatchNorm2d, else run in turn.
Tensor conv_then_norm(Conv2d& conv, UnaryModule& norm, const Tensor& x);

}  // namespace maskdet::nn
