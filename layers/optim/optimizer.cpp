// Optimizer base: groups, the step loop, and the state dict (layout in optimizer.h).
#include "layers/optim/optimizer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "autograd/grad_mode.h"
#include "tensor/creation.h"
#include "tensor/kernels/copy.h"

namespace maskdet::optim {

namespace {

std::string group_key(size_t group, const char* field) {
  return "param_groups." + std::to_string(group) + "." + field;
}

std::string state_key(size_t param, const std::string& field) {
  return "state." + std::to_string(param) + "." + field;
}

Tensor float64_scalar(double value) { return scalar_tensor(value, {DType::Float64}); }

// A private copy with `like`'s dtype and device, so two optimisers never share a buffer.
Tensor copy_as(const Tensor& src, const Tensor& like) {
  Tensor out = empty(like.shape(), like.options());
  kernels::copy(src, out);
  return out;
}

// Splits "state.<i>.<field>"; false when the key does not have that form.
bool parse_state_key(const std::string& key, size_t& param, std::string& field) {
  const std::string prefix = "state.";
  if (key.rfind(prefix, 0) != 0) return false;
  const size_t dot = key.find('.', prefix.size());
  if (dot == std::string::npos || dot == prefix.size() || dot + 1 == key.size()) return false;
  const char* begin = key.data() + prefix.size();
  const char* end = key.data() + dot;
  const auto [stop, error] = std::from_chars(begin, end, param);
  if (error != std::errc() || stop != end) return false;
  field = key.substr(dot + 1);
  return true;
}

}  // namespace

Optimizer::Optimizer(const char* name, std::vector<ParamGroup> groups, double default_lr,
                     double default_weight_decay)
    : name_(name) {
  check_non_negative("lr", default_lr);
  check_non_negative("weight_decay", default_weight_decay);
  MASKDET_CHECK(!groups.empty(), name_, ": no parameter groups");
  std::set<const TensorImpl*> seen;
  for (size_t g = 0; g < groups.size(); ++g) {
    Group group;
    group.lr = groups[g].lr.value_or(default_lr);
    group.weight_decay = groups[g].weight_decay.value_or(default_weight_decay);
    check_non_negative("lr", group.lr);
    check_non_negative("weight_decay", group.weight_decay);
    group.initial_lr = group.lr;
    for (const Tensor& p : groups[g].params) {
      MASKDET_CHECK(p.defined(), name_, ": parameter ", state_.size(), " (group ", g, ") is undefined");
      MASKDET_CHECK(p.is_leaf(), name_, ": parameter ", state_.size(), " is not a leaf; only leaves can be optimised");
      MASKDET_CHECK(is_floating(p.dtype()), name_, ": parameter ", state_.size(), " is ", dtype_name(p.dtype()),
                    ", not float32 or float64");
      MASKDET_CHECK(seen.insert(p.impl().get()).second, name_, ": parameter ", state_.size(),
                    " appears twice; it would be updated twice per step");
      group.params.push_back(p);
      state_.emplace_back();
    }
    groups_.push_back(std::move(group));
  }
  MASKDET_CHECK(!state_.empty(), name_, ": no parameters to optimise");
}

void Optimizer::check_non_negative(const char* what, double value) const {
  MASKDET_CHECK(std::isfinite(value) && value >= 0, name_, ": invalid ", what, " ", value,
                " (must be a finite number >= 0)");
}

void Optimizer::step() {
  NoGradGuard no_grad;
  size_t index = 0;
  for (const Group& group : groups_) {
    for (const Tensor& param : group.params) {
      ParamState& state = state_[index];
      const Tensor grad = param.grad();
      if (grad.defined()) {
        MASKDET_CHECK(param.is_contiguous(), name_, ": parameter ", index, " ", shape_str(param.shape()),
                      " is not contiguous; the fused update needs dense memory");
        ++state.step;
        update(param, grad.contiguous(), state, group);
      }
      ++index;
    }
  }
}

void Optimizer::zero_grad() {
  for (Group& group : groups_)
    for (Tensor& param : group.params) param.zero_grad();
}

const Optimizer::Group& Optimizer::group_at(size_t group) const {
  MASKDET_CHECK(group < groups_.size(), name_, ": group ", group, " out of range (", groups_.size(), " groups)");
  return groups_[group];
}

const std::vector<Tensor>& Optimizer::params(size_t group) const { return group_at(group).params; }
double Optimizer::lr(size_t group) const { return group_at(group).lr; }
double Optimizer::initial_lr(size_t group) const { return group_at(group).initial_lr; }
double Optimizer::weight_decay(size_t group) const { return group_at(group).weight_decay; }

void Optimizer::set_lr(size_t group, double lr) {
  group_at(group);  // the range check
  check_non_negative("lr", lr);
  groups_[group].lr = lr;
}

StateDict Optimizer::state_dict() const {
  NoGradGuard no_grad;
  StateDict dict;
  size_t index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const Group& group = groups_[g];
    std::vector<int64_t> numbers;
    for (size_t i = 0; i < group.params.size(); ++i) numbers.push_back(static_cast<int64_t>(index++));
    dict.emplace_back(group_key(g, "params"),
                      from_vector<int64_t>(numbers, {static_cast<int64_t>(numbers.size())}, {DType::Int64}));
    dict.emplace_back(group_key(g, "lr"), float64_scalar(group.lr));
    dict.emplace_back(group_key(g, "initial_lr"), float64_scalar(group.initial_lr));
    dict.emplace_back(group_key(g, "weight_decay"), float64_scalar(group.weight_decay));
  }
  for (const auto& [name, value] : defaults()) dict.emplace_back("defaults." + name, float64_scalar(value));
  for (size_t i = 0; i < state_.size(); ++i) {
    const ParamState& state = state_[i];
    if (state.step == 0 && state.buffers.empty()) continue;
    dict.emplace_back(state_key(i, "step"), scalar_tensor(static_cast<double>(state.step), {DType::Int64}));
    for (const auto& [name, buffer] : state.buffers) dict.emplace_back(state_key(i, name), buffer.clone());
  }
  return dict;
}

void Optimizer::load_state_dict(const StateDict& dict) {
  NoGradGuard no_grad;
  std::map<std::string, Tensor> remaining;
  for (const auto& [key, tensor] : dict) {
    MASKDET_CHECK(tensor.defined(), name_, ": load_state_dict: ", key, " is undefined");
    MASKDET_CHECK(remaining.emplace(key, tensor).second, name_, ": load_state_dict: duplicate key ", key);
  }
  auto take = [&](const std::string& key) {
    const auto it = remaining.find(key);
    MASKDET_CHECK(it != remaining.end(), name_, ": load_state_dict: missing key ", key);
    Tensor t = it->second;
    remaining.erase(it);
    return t;
  };
  auto take_scalar = [&](const std::string& key) {
    const Tensor t = take(key);
    MASKDET_CHECK(t.numel() == 1, name_, ": load_state_dict: ", key, " should hold one value, has shape ",
                  shape_str(t.shape()));
    return t.item();
  };

  // Everything is checked into copies first, so a rejected dict leaves the optimiser as it was.
  std::vector<Group> groups = groups_;
  size_t index = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::vector<int64_t> numbers = take(group_key(g, "params")).to_vector<int64_t>();
    MASKDET_CHECK(numbers.size() == groups[g].params.size(), name_, ": load_state_dict: group ", g, " has ",
                  numbers.size(), " parameters in the state dict, ", groups[g].params.size(), " here");
    for (int64_t number : numbers) {
      MASKDET_CHECK(number == static_cast<int64_t>(index), name_, ": load_state_dict: group ", g,
                    " lists parameter ", number, " where this optimiser has parameter ", index);
      ++index;
    }
    groups[g].lr = take_scalar(group_key(g, "lr"));
    groups[g].initial_lr = take_scalar(group_key(g, "initial_lr"));
    groups[g].weight_decay = take_scalar(group_key(g, "weight_decay"));
    check_non_negative("lr", groups[g].lr);
    check_non_negative("initial_lr", groups[g].initial_lr);
    check_non_negative("weight_decay", groups[g].weight_decay);
  }
  const std::string group_prefix = "param_groups.";
  for (const auto& [key, tensor] : remaining)
    MASKDET_CHECK(key.rfind(group_prefix, 0) != 0, name_, ": load_state_dict: unexpected key ", key, " (",
                  groups.size(), " groups here)");

  std::map<std::string, double> hyper;
  // Every optimiser-wide hyper-parameter is a non-negative number; set_defaults checks the rest.
  for (const auto& [name, value] : defaults()) {
    hyper[name] = take_scalar("defaults." + name);
    check_non_negative(name.c_str(), hyper[name]);
  }

  std::vector<const Tensor*> params;
  for (const Group& group : groups)
    for (const Tensor& p : group.params) params.push_back(&p);
  const std::vector<std::string> buffer_names = this->buffer_names();
  std::vector<ParamState> state(state_.size());
  for (const auto& [key, tensor] : remaining) {
    size_t i = 0;
    std::string field;
    MASKDET_CHECK(parse_state_key(key, i, field), name_, ": load_state_dict: unexpected key ", key);
    MASKDET_CHECK(i < params.size(), name_, ": load_state_dict: ", key, " names parameter ", i, ", this optimiser has ",
                  params.size());
    const Tensor& param = *params[i];
    if (field == "step") {
      MASKDET_CHECK(tensor.numel() == 1, name_, ": load_state_dict: ", key, " should hold one value, has shape ",
                    shape_str(tensor.shape()));
      const double step = tensor.item();
      MASKDET_CHECK(step >= 0 && step == std::floor(step), name_, ": load_state_dict: ", key, " is ", step,
                    ", not a step count");
      state[i].step = static_cast<int64_t>(step);
      continue;
    }
    MASKDET_CHECK(std::find(buffer_names.begin(), buffer_names.end(), field) != buffer_names.end(), name_,
                  ": load_state_dict: unexpected key ", key);
    MASKDET_CHECK(tensor.shape() == param.shape(), name_, ": load_state_dict: ", key, " has shape ",
                  shape_str(tensor.shape()), " but parameter ", i, " has shape ", shape_str(param.shape()));
    state[i].buffers[field] = copy_as(tensor, param);
  }

  set_defaults(hyper);  // validates before it changes anything
  groups_ = std::move(groups);
  state_ = std::move(state);
}

}  // namespace maskdet::optim
