// The convolution shape shared by ResNet (He et al. 2016), the FPN (Lin et al. 2017) and
// RetinaNet's head: a square kernel padded by kernel / 2, so that a stride-1 conv keeps the
// feature map's size and a stride-2 one halves it (rounded up). Each user initialises it its way.
#pragma once
#include <cstdint>
#include <memory>

#include "layers/conv2d.h"

namespace maskdet {

// x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)) for odd kernels.
std::shared_ptr<nn::Conv2d> padded_conv(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                                        int64_t stride, bool bias);

}  // namespace maskdet
