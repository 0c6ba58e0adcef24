// Module: registration, traversal by dotted names, mode, device/dtype moves, freezing,
// state dicts and printing (the semantics of torch.nn.Module).
#include "layers/module.h"

#include <algorithm>
#include <ostream>
#include <set>
#include <sstream>

#include "autograd/grad_mode.h"
#include "tensor/kernels/copy.h"

namespace maskdet::nn {

namespace {

// The first occurrence of each tensor (by TensorImpl), so shared weights are listed once.
NamedTensors unique_tensors(NamedTensors named) {
  std::set<const TensorImpl*> seen;
  NamedTensors out;
  for (auto& entry : named)
    if (seen.insert(entry.second.impl().get()).second) out.push_back(std::move(entry));
  return out;
}

// "a.b" matches "a.b" and "a.b.c" but not "a.bc"; "a." matches what starts with it; "" all.
bool name_matches_prefix(const std::string& name, const std::string& prefix) {
  if (prefix.empty()) return true;
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  return name.size() == prefix.size() || prefix.back() == '.' || name[prefix.size()] == '.';
}

// "a, b, c" with at most `most` names, then how many more.
std::string join_names(const std::vector<std::string>& names, size_t most = 20) {
  std::ostringstream os;
  for (size_t i = 0; i < names.size() && i < most; ++i) os << (i ? ", " : "") << names[i];
  if (names.size() > most) os << ", ... (" << names.size() - most << " more)";
  return os.str();
}

std::string indent_continuation_lines(const std::string& text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

// Replaces each tensor's data (and its gradient) with convert(data), keeping the handles.
template <class Convert>
void convert_in_place(const std::vector<Tensor>& tensors, bool floating_only, const Convert& convert) {
  NoGradGuard no_grad;
  for (Tensor t : tensors) {
    if (floating_only && !is_floating(t.dtype())) continue;
    const Tensor grad = t.grad();
    t.set_data(convert(t.detach()));
    if (grad.defined()) t.set_grad(convert(grad));
  }
}

}  // namespace

// ---- registration ----

void Module::check_new_name(const std::string& name, const char* what) const {
  MASKDET_CHECK(!name.empty(), name_, ": a ", what, " needs a non-empty name");
  MASKDET_CHECK(name.find('.') == std::string::npos, name_, ": ", what, " name \"", name,
                "\" must not contain '.' (dots join the names of nested modules)");
  const auto taken = [&](const auto& registry) {
    return std::any_of(registry.begin(), registry.end(), [&](const auto& entry) { return entry.first == name; });
  };
  MASKDET_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), name_, ": the name \"", name,
                "\" is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name(name, "parameter");
  MASKDET_CHECK(tensor.defined(), name_, ": parameter ", name, " is an undefined tensor");
  MASKDET_CHECK(tensor.is_leaf(), name_, ": parameter ", name, " must be a leaf tensor (detach() it first)");
  MASKDET_CHECK(is_floating(tensor.dtype()), name_, ": parameter ", name, " must be float32 or float64, got ",
                dtype_name(tensor.dtype()));
  tensor.set_requires_grad(requires_grad);
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_new_name(name, "buffer");
  MASKDET_CHECK(tensor.defined(), name_, ": buffer ", name, " is an undefined tensor");
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "submodule");
  MASKDET_CHECK(module != nullptr, name_, ": submodule ", name, " is null");
  MASKDET_CHECK(module.get() != this, name_, ": a module cannot be its own submodule");
  children_.emplace_back(name, std::move(module));
}

// ---- traversal ----

template <class Visit>
void Module::visit(const std::string& prefix, bool recurse, const Visit& visit_module) const {
  visit_module(prefix, *this);
  if (!recurse) return;
  for (const auto& [child_name, child] : children_) child->visit(prefix + child_name + ".", true, visit_module);
}

NamedTensors Module::all_named(NamedTensors Module::*registry, bool recurse) const {
  NamedTensors out;
  visit("", recurse, [&](const std::string& prefix, const Module& m) {
    for (const auto& [name, tensor] : m.*registry) out.emplace_back(prefix + name, tensor);
  });
  return out;
}

NamedTensors Module::named_parameters(bool recurse) const {
  return unique_tensors(all_named(&Module::parameters_, recurse));
}

NamedTensors Module::named_buffers(bool recurse) const { return unique_tensors(all_named(&Module::buffers_, recurse)); }

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_parameters(recurse)) out.push_back(tensor);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_buffers(recurse)) out.push_back(tensor);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules() {
  auto self = weak_from_this().lock();
  MASKDET_CHECK(self != nullptr, "named_modules: this ", name_,
                " is not held by a std::shared_ptr (make modules with std::make_shared)");
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out{{"", self}};
  std::set<const Module*> seen{this};
  for (const auto& [child_name, child] : children_)
    for (auto& [sub_name, module] : child->named_modules())
      if (seen.insert(module.get()).second)
        out.emplace_back(sub_name.empty() ? child_name : child_name + "." + sub_name, module);
  return out;
}

// ---- mode, device, dtype ----

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device device) {
  std::vector<Tensor> tensors = parameters();
  for (const Tensor& b : buffers()) tensors.push_back(b);
  convert_in_place(tensors, false, [&](const Tensor& t) { return t.to(device); });
}

void Module::to(DType dtype) {
  MASKDET_CHECK(is_floating(dtype), name_, ".to: modules convert to a floating dtype, got ", dtype_name(dtype));
  std::vector<Tensor> tensors = parameters();
  for (const Tensor& b : buffers()) tensors.push_back(b);
  convert_in_place(tensors, true, [&](const Tensor& t) { return t.to(dtype); });
}

// ---- trainability ----

int64_t Module::parameter_count(bool trainable_only) const {
  int64_t count = 0;
  for (const Tensor& p : parameters())
    if (!trainable_only || p.requires_grad()) count += p.numel();
  return count;
}

int64_t Module::set_requires_grad(const std::string& prefix, bool requires_grad) {
  int64_t matched = 0;
  for (auto& [name, p] : all_named(&Module::parameters_, true)) {
    if (!name_matches_prefix(name, prefix)) continue;
    p.set_requires_grad(requires_grad);
    ++matched;
  }
  if (matched == 0) {
    std::vector<std::string> top_level;
    for (const auto& [name, p] : parameters_) top_level.push_back(name);
    for (const auto& [name, child] : children_) top_level.push_back(name);
    MASKDET_FAIL(requires_grad ? "unfreeze" : "freeze", ": no parameter of ", name_, " matches the prefix \"", prefix,
                 "\" (top-level names: ", join_names(top_level), ")");
  }
  return matched;
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.zero_grad();
}

// ---- checkpoints ----

NamedTensors Module::state_dict() const {
  NamedTensors out;
  visit("", true, [&](const std::string& prefix, const Module& m) {
    for (const auto& [name, tensor] : m.parameters_) out.emplace_back(prefix + name, tensor);
    for (const auto& [name, tensor] : m.buffers_) out.emplace_back(prefix + name, tensor);
  });
  return out;
}

LoadResult Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  LoadResult result;
  std::set<std::string> known_keys;
  std::vector<std::pair<Tensor, Tensor>> copies;  // (checkpoint value, model tensor)
  for (const auto& [key, target] : state_dict()) {
    known_keys.insert(key);
    const auto found = state.find(key);
    if (found == state.end()) {
      result.missing_keys.push_back(key);
      continue;
    }
    const Tensor& value = found->second;
    MASKDET_CHECK(value.defined(), "load_state_dict: the checkpoint's ", key, " is an undefined tensor");
    MASKDET_CHECK(value.shape() == target.shape(), "load_state_dict: shape mismatch for ", key, ": the model has ",
                  shape_str(target.shape()), ", the checkpoint ", shape_str(value.shape()));
    MASKDET_CHECK(value.dtype() == target.dtype(), "load_state_dict: dtype mismatch for ", key, ": expected ",
                  dtype_name(target.dtype()), ", the checkpoint has ", dtype_name(value.dtype()),
                  " (dtypes are not converted: convert the checkpoint, or the model with to())");
    copies.emplace_back(value, target);
  }
  visit("", true, [&](const std::string& prefix, const Module& m) {
    for (const std::string& name : m.ignored_state_keys()) known_keys.insert(prefix + name);
  });
  for (const auto& [key, value] : state)
    if (!known_keys.count(key)) result.unexpected_keys.push_back(key);

  if (strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty())) {
    std::ostringstream problems;
    if (!result.missing_keys.empty()) problems << " missing keys: " << join_names(result.missing_keys) << ".";
    if (!result.unexpected_keys.empty()) problems << " unexpected keys: " << join_names(result.unexpected_keys) << ".";
    MASKDET_FAIL("load_state_dict into ", name_, ":", problems.str());
  }
  NoGradGuard no_grad;
  for (const auto& [value, target] : copies) kernels::copy(value, target);
  return result;
}

// ---- printing ----

std::string Module::str() const {
  std::ostringstream os;
  os << name_ << "(";
  const std::string extra = extra_repr();
  if (children_.empty()) {
    os << extra;
  } else {
    os << "\n";
    if (!extra.empty()) os << "  " << indent_continuation_lines(extra) << "\n";
    for (const auto& [child_name, child] : children_)
      os << "  (" << child_name << "): " << indent_continuation_lines(child->str()) << "\n";
  }
  os << ")";
  if (!parameters_.empty()) {
    os << " [";
    for (size_t i = 0; i < parameters_.size(); ++i)
      os << (i ? ", " : "") << parameters_[i].first << " " << shape_str(parameters_[i].second.shape());
    os << "]";
  }
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Module& module) { return os << module.str(); }

}  // namespace maskdet::nn
