// Padded convolution: the Conv2d options it stands for.
#include "retinanet/padded_conv.h"

namespace maskdet {

std::shared_ptr<nn::Conv2d> padded_conv(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                                        int64_t stride, bool bias) {
  return std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in_channels = in_channels,
                                                        .out_channels = out_channels,
                                                        .kernel_size = kernel_size,
                                                        .stride = stride,
                                                        .padding = kernel_size / 2,
                                                        .bias = bias});
}

}  // namespace maskdet
