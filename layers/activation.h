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

}  // namespace maskdet::nn
