// The backward engine: runs the nodes reachable from a root in reverse topological order.
#pragma once
#include "tensor/tensor.h"

namespace maskdet::autograd {

// Backpropagates `grad_root` (same shape as root) from `root`; leaf gradients are
// accumulated (added) into their .grad. Without retain_graph the nodes' saved tensors are
// freed and a second backward through them is an error.
void run_backward(const Tensor& root, const Tensor& grad_root, bool retain_graph);

}  // namespace maskdet::autograd
