// SiLU: the activation x * sigmoid(x) as a layer, torch.nn.SiLU's counterpart, so that it can sit
// in a Sequential or be registered as a model's child. Stateless: no parameters or buffers, so it
// adds no state-dict keys (as in PyTorch, where nn.SiLU has none either).
#pragma once
#include "autograd/ops.h"
#include "layers/module.h"

namespace maskdet::nn {

class SiLU : public UnaryModule {
 public:
  SiLU() : UnaryModule("SiLU") {}
  // x: any shape -> the same shape
  Tensor forward(const Tensor& x) override { return silu(x); }
};

}  // namespace maskdet::nn
