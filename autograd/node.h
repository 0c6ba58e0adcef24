// Graph nodes. A differentiable op that sees an input requiring grad attaches a Node to
// its output: the node keeps what the backward needs (saved tensors, shapes) and one edge
// per input, pointing at the node that produced that input (or at the leaf's
// AccumulateGrad, or null when that input needs no gradient).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace maskdet::autograd {

class Node {
 public:
  explicit Node(std::string name) : name_(std::move(name)) {}
  virtual ~Node() = default;
  const std::string& name() const { return name_; }

  // Maps the gradient of the node's output to one gradient per input edge (an undefined
  // Tensor where an input gets none). Runs with grad mode off.
  virtual std::vector<Tensor> apply(const Tensor& grad_output) = 0;
  // Frees saved tensors after a backward pass that did not ask to retain the graph.
  virtual void release() {}

  std::vector<std::shared_ptr<Node>> next;  // one per input of the op

 private:
  std::string name_;
};

// The backward of an op written as a lambda: grad_output -> one gradient per input.
// Lambdas must capture outputs of their own op detached (output.detach()), or the node
// and the output would own each other.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

class FunctionNode final : public Node {
 public:
  FunctionNode(std::string name, BackwardFn fn, std::vector<Shape> input_shapes, std::vector<DType> input_dtypes);
  std::vector<Tensor> apply(const Tensor& grad_output) override;
  void release() override;

 private:
  BackwardFn fn_;
  std::vector<Shape> input_shapes_;
  std::vector<DType> input_dtypes_;
  bool released_ = false;
};

// Sink for a leaf tensor: adds the incoming gradient into leaf.grad.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : Node("AccumulateGrad"), leaf_(std::move(leaf)) {}
  std::vector<Tensor> apply(const Tensor& grad_output) override;
  const TensorImpl& leaf() const { return *leaf_; }

 private:
  std::shared_ptr<TensorImpl> leaf_;
};

// The node a gradient for `t` flows into: its grad_fn, the leaf's AccumulateGrad, or null.
std::shared_ptr<Node> gradient_edge(const Tensor& t);

// Makes `output` the result of a differentiable op named `name`. When grad mode is on and
// any input requires grad, attaches a FunctionNode running `backward`; otherwise does
// nothing (and `backward` and its captures are dropped at once).
void record(const char* name, const std::vector<Tensor>& inputs, Tensor& output, BackwardFn backward);

// True when an op over these inputs would record a node (grad mode on, an input needs grad).
bool any_requires_grad(const std::vector<Tensor>& inputs);

}  // namespace maskdet::autograd
