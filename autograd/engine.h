// The backward engine: runs the nodes reachable from a root in reverse topological order.
#pragma once
#include <functional>

#include "tensor/tensor.h"

namespace maskdet::autograd {

// Called on the backward's thread each time a leaf's .grad is final for this backward (its last
// incoming gradient has been accumulated), so that data-parallel training can start summing a
// bucket of gradients over the ranks while the rest of the backward pass runs, as PyTorch's
// DDP does with its autograd hooks. A leaf that gets no gradient is never reported.
using GradientReadyHook = std::function<void(const TensorImpl& leaf)>;

// Installs `hook` for the backward passes this thread runs while the scope lives (scopes nest:
// the innermost wins).
class GradientReadyScope {
 public:
  explicit GradientReadyScope(GradientReadyHook hook);
  ~GradientReadyScope();
  GradientReadyScope(const GradientReadyScope&) = delete;
  GradientReadyScope& operator=(const GradientReadyScope&) = delete;

 private:
  GradientReadyHook previous_;
};

// Backpropagates `grad_root` (same shape as root) from `root`; leaf gradients are
// accumulated (added) into their .grad. Without retain_graph the nodes' saved tensors are
// freed and a second backward through them is an error.
void run_backward(const Tensor& root, const Tensor& grad_root, bool retain_graph);

}  // namespace maskdet::autograd
