// Conv + norm, folded when the norm is frozen (conv_norm.h).
#include "layers/conv_norm.h"

#include "autograd/ops.h"
#include "layers/frozen_batch_norm.h"

namespace maskdet::nn {

Tensor conv_then_norm(Conv2d& conv, UnaryModule& norm, const Tensor& x) {
  const auto* frozen = dynamic_cast<const FrozenBatchNorm2d*>(&norm);
  if (!frozen) return norm.forward(conv.forward(x));
  MASKDET_CHECK(frozen->num_features() == conv.options().out_channels, "conv_then_norm: the norm has ",
                frozen->num_features(), " channels, the convolution ", conv.options().out_channels, " outputs");
  const auto [scale, shift] = frozen->scale_and_shift();
  const Tensor weight = conv.weight() * scale.reshape({scale.size(0), 1, 1, 1});
  const Tensor bias = conv.bias().defined() ? conv.bias() * scale + shift : shift;
  return conv2d(x, weight, bias, conv.geometry());
}

}  // namespace maskdet::nn
