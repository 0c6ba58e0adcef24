// Module: the base of every layer and model, in the manner of the PyTorch C++ frontend
// (torch::nn::Module). A module owns named parameters (trainable tensors), named buffers
// (state that is saved but not trained, e.g. batch norm's running statistics) and named child
// modules, all registered in its constructor and kept in registration order.
//
// Dotted names join the path through the tree: "backbone.layer1.0.conv1.weight". They are the
// keys of state_dict() and load_state_dict(), so a checkpoint written by PyTorch for the same
// architecture maps onto a maskdet model key for key.
//
// Modules are held by std::shared_ptr (make them with std::make_shared). Layers keep Tensor
// handles to their own parameters; to(), load_state_dict() and the initialisers change those
// tensors in place (Tensor::set_data, kernels::copy), so the handles stay valid.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace maskdet::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// What load_state_dict could not match: keys the model has but the checkpoint lacks, and keys
// the checkpoint has but the model does not.
struct LoadResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  // `name` is the type name shown when printing ("Conv2d", "ResNet").
  explicit Module(std::string name) : name_(std::move(name)) {}
  virtual ~Module() = default;
  // A copy would share the tensors but not the registrations; models are passed by pointer.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& name() const { return name_; }

  // ---- registration (call in constructors) ----
  // Registers a leaf tensor as a parameter and sets its requires_grad; returns the same handle.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor tensor);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    static_assert(std::is_base_of_v<Module, M>, "register_module: not a Module");
    add_child(name, module);
    return module;
  }

  // ---- traversal; names are dotted paths from this module ----
  // A tensor registered under two names (shared weights) is listed once, under its first name,
  // so an optimiser never steps it twice; state_dict() lists every name.
  NamedTensors named_parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const { return children_; }
  // This module first (under the name ""), then every descendant in depth-first order.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules();

  // ---- mode ----
  // Sets the training flag of this module and every descendant. Virtual so that a model can
  // keep part of itself in eval mode (e.g. a frozen backbone's batch norms).
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // ---- device and dtype, in place ----
  // Moves every parameter and buffer (and existing gradients) to `device`.
  void to(Device device);
  // Converts the floating-point parameters and buffers (and gradients); integer buffers such as
  // num_batches_tracked keep their dtype, as in PyTorch.
  void to(DType dtype);

  // ---- trainability ----
  int64_t parameter_count(bool trainable_only = false) const;
  // Sets requires_grad on the parameters whose dotted name matches `prefix`: the name itself,
  // or any name below it ("backbone.layer1" matches "backbone.layer1.0.conv1.weight" but not
  // "backbone.layer10.weight"; a prefix ending in '.' matches what starts with it; "" matches
  // all). Throws when nothing matches. Returns how many parameters matched.
  int64_t set_requires_grad(const std::string& prefix, bool requires_grad);
  int64_t freeze(const std::string& prefix = "") { return set_requires_grad(prefix, false); }
  int64_t unfreeze(const std::string& prefix = "") { return set_requires_grad(prefix, true); }
  // Drops every parameter's gradient (the next backward writes a fresh one).
  void zero_grad();

  // ---- checkpoints ----
  // Every parameter and buffer under its dotted name. Order as PyTorch's: each module's
  // parameters, then its buffers, then its children's entries, depth first.
  NamedTensors state_dict() const;
  // Copies each entry's values into the tensor of the same name, in place. Every key's shape
  // and dtype must match (dtypes are never converted; the error names the key and the dtype
  // expected). Checks everything before copying anything, so a failed load changes nothing.
  // strict: missing or unexpected keys are an error listing them; otherwise they are returned.
  LoadResult load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

  // ---- printing ----
  // The module tree, as PyTorch's repr, each module's own parameter shapes in brackets:
  //   Sequential(
  //     (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1)) [weight (8, 3, 3, 3), bias (8,)]
  //     (1): ReLU()
  //   )
  std::string str() const;

 protected:
  // The configuration shown inside the parentheses when printing, e.g. "3, 8, kernel_size=(3, 3)".
  virtual std::string extra_repr() const { return ""; }
  // State-dict keys (relative to this module) that load_state_dict accepts and ignores, for
  // entries a checkpoint may carry that this module has no use for.
  virtual std::vector<std::string> ignored_state_keys() const { return {}; }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name, const char* what) const;
  // Visits this module and its descendants depth first with their dotted prefixes ("" or "a.b.").
  template <class Visit>
  void visit(const std::string& prefix, bool recurse, const Visit& visit_module) const;
  // Every entry of one registry (parameters_ or buffers_) under its dotted name, repeats included.
  NamedTensors all_named(NamedTensors Module::*registry, bool recurse) const;

  std::string name_;
  bool training_ = true;
  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

std::ostream& operator<<(std::ostream& os, const Module& module);

// A layer with one input and one output: the common interface of composable layers
// (Sequential chains them).
class UnaryModule : public Module {
 public:
  using Module::Module;
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
};

}  // namespace maskdet::nn
