#include "autograd/node.h"

#include "autograd/grad_mode.h"
#include "tensor/kernels/elementwise.h"

namespace maskdet::autograd {

FunctionNode::FunctionNode(std::string name, BackwardFn fn, std::vector<Shape> input_shapes,
                           std::vector<DType> input_dtypes)
    : Node(std::move(name)),
      fn_(std::move(fn)),
      input_shapes_(std::move(input_shapes)),
      input_dtypes_(std::move(input_dtypes)) {}

std::vector<Tensor> FunctionNode::apply(const Tensor& grad_output) {
  MASKDET_CHECK(!released_, "trying to backward through ", name(),
                " a second time, but its saved tensors were already freed; pass retain_graph=true to the first "
                "backward() if you need to backward twice");
  std::vector<Tensor> grads = fn_(grad_output);
  MASKDET_CHECK(grads.size() == next.size(), name(), " returned ", grads.size(), " gradients for ", next.size(),
                " inputs");
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    MASKDET_CHECK(grads[i].shape() == input_shapes_[i], name(), " returned a gradient of shape ",
                  shape_str(grads[i].shape()), " for input ", i, " of shape ", shape_str(input_shapes_[i]));
    MASKDET_CHECK(grads[i].dtype() == input_dtypes_[i], name(), " returned a ", dtype_name(grads[i].dtype()),
                  " gradient for ", dtype_name(input_dtypes_[i]), " input ", i);
  }
  return grads;
}

void FunctionNode::release() {
  fn_ = nullptr;
  released_ = true;
}

std::vector<Tensor> AccumulateGrad::apply(const Tensor& grad_output) {
  if (!leaf_->grad) {
    // A fresh buffer: the incoming gradient may alias storage the graph still uses.
    leaf_->grad = grad_output.clone().impl();
  } else {
    Tensor acc(leaf_->grad);
    kernels::binary_forward(kernels::BinaryOp::Add, acc, grad_output, acc);
  }
  return {};
}

std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return nullptr;
  auto& impl = t.impl();
  if (impl->grad_fn) return impl->grad_fn;
  auto acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(impl);
    impl->grad_accumulator = acc;
  }
  return acc;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(const char* name, const std::vector<Tensor>& inputs, Tensor& output, BackwardFn backward) {
  if (!any_requires_grad(inputs)) return;
  std::vector<Shape> shapes;
  std::vector<DType> dtypes;
  for (const auto& t : inputs) {
    shapes.push_back(t.defined() ? t.shape() : Shape{});
    dtypes.push_back(t.defined() ? t.dtype() : DType::Float32);
  }
  auto node = std::make_shared<FunctionNode>(name, std::move(backward), std::move(shapes), std::move(dtypes));
  for (const auto& t : inputs) node->next.push_back(gradient_edge(t));
  output.impl()->requires_grad = true;
  output.impl()->grad_fn = std::move(node);
}

}  // namespace maskdet::autograd
