// Activation layers: stateless wrappers that let an activation sit in a Sequential.
#pragma once
#include "autograd/ops.h"
#include "layers/module.h"

namespace maskdet::nn {

class ReLU : public UnaryModule {
 public:
  ReLU() : UnaryModule("ReLU") {}
  Tensor forward(const Tensor& x) override { return relu(x); }
};

// min(max(x, 0), 6), as torch.nn.ReLU6 (MobileNetV2's activation: its bound keeps activations
// in a range that low-precision arithmetic represents well).
class ReLU6 : public UnaryModule {
 public:
  ReLU6() : UnaryModule("ReLU6") {}
  Tensor forward(const Tensor& x) override { return clamp(x, 0.0, 6.0); }
};

}  // namespace maskdet::nn
