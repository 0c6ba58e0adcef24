#include "autograd/engine.h"

#include <unordered_map>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "tensor/creation.h"
#include "tensor/kernels/elementwise.h"

namespace maskdet::autograd {

namespace {
thread_local GradientReadyHook gradient_ready_hook;
}  // namespace

GradientReadyScope::GradientReadyScope(GradientReadyHook hook) : previous_(std::move(gradient_ready_hook)) {
  gradient_ready_hook = std::move(hook);
}

GradientReadyScope::~GradientReadyScope() { gradient_ready_hook = std::move(previous_); }

void run_backward(const Tensor& root, const Tensor& grad_root, bool retain_graph) {
  MASKDET_CHECK(root.requires_grad(), "backward: the tensor does not require grad and has no grad_fn");
  MASKDET_CHECK(grad_root.shape() == root.shape(), "backward: gradient of shape ", shape_str(grad_root.shape()),
                " for a tensor of shape ", shape_str(root.shape()));
  std::shared_ptr<Node> root_node = gradient_edge(root);

  // Count, for every reachable node, how many edges lead into it: a node runs once all of
  // its consumers have passed their gradient on (Kahn's algorithm on the reversed graph).
  std::unordered_map<Node*, int> pending;
  std::vector<Node*> stack{root_node.get()};
  pending[root_node.get()] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const auto& next : n->next) {
      if (!next) continue;
      auto [it, inserted] = pending.try_emplace(next.get(), 0);
      ++it->second;
      if (inserted) stack.push_back(next.get());
    }
  }

  NoGradGuard no_grad;  // backward formulas do not build graphs of their own
  std::unordered_map<Node*, Tensor> grads;
  grads[root_node.get()] = grad_root;
  std::vector<Node*> ready{root_node.get()};
  std::vector<Node*> executed;
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    Tensor grad = std::move(grads[n]);
    grads.erase(n);
    std::vector<Tensor> input_grads = n->apply(grad);
    executed.push_back(n);
    // A node runs once, after every gradient into it arrived: an accumulator's leaf is done.
    if (gradient_ready_hook)
      if (const auto* accumulator = dynamic_cast<const AccumulateGrad*>(n)) gradient_ready_hook(accumulator->leaf());
    for (size_t i = 0; i < n->next.size(); ++i) {
      Node* next = n->next[i].get();
      if (!next) continue;
      if (i < input_grads.size() && input_grads[i].defined()) {
        auto it = grads.find(next);
        if (it == grads.end()) {
          grads.emplace(next, input_grads[i]);
        } else {
          // Sum into a fresh tensor: the stored one may alias another node's saved data.
          Tensor sum = empty(it->second.shape(), it->second.options());
          kernels::binary_forward(kernels::BinaryOp::Add, it->second, input_grads[i], sum);
          it->second = sum;
        }
      }
      if (--pending[next] == 0) {
        if (grads.count(next)) {
          ready.push_back(next);
        } else {
          // Every path into this node carried no gradient: its inputs get none from here either,
          // but their pending counts must still fall.
          std::vector<Node*> skip{next};
          while (!skip.empty()) {
            Node* s = skip.back();
            skip.pop_back();
            for (const auto& nn : s->next) {
              if (!nn) continue;
              if (--pending[nn.get()] == 0) {
                if (grads.count(nn.get())) ready.push_back(nn.get());
                else skip.push_back(nn.get());
              }
            }
          }
        }
      }
    }
  }
  if (!retain_graph)
    for (Node* n : executed) n->release();
}

}  // namespace maskdet::autograd
