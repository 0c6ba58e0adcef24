// Optimizer: the base of SGD and AdamW, in the shape of torch.optim.Optimizer. It owns
// parameter groups (each with its own lr and weight decay, e.g. no decay on norms and
// biases), the per-parameter state, and the state dict that lets a training run resume
// exactly where a checkpoint left it.
//
// State dict layout (a flat list of named tensors, so a checkpoint file can hold it as is).
// Parameters are numbered across groups in order, as PyTorch does:
//   param_groups.<g>.params        int64 (n): the numbers of the group's parameters
//   param_groups.<g>.lr            float64 (): and .initial_lr, .weight_decay
//   defaults.<name>                float64 (): optimiser-wide hyper-parameters (momentum, beta1, ...)
//   state.<i>.step                 int64 (): updates applied to parameter i
//   state.<i>.<buffer>             the parameter's shape and dtype (momentum_buffer, exp_avg, ...)
// Only parameters that have been updated have state entries.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace maskdet::optim {

using StateDict = std::vector<std::pair<std::string, Tensor>>;

// What the caller hands in; an unset lr or weight decay takes the optimiser's default.
struct ParamGroup {
  std::vector<Tensor> params;
  std::optional<double> lr = std::nullopt;
  std::optional<double> weight_decay = std::nullopt;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient; parameters whose grad is undefined
  // are left alone, state included. Runs with grad mode off.
  void step();
  // Drops every parameter's gradient (PyTorch's set_to_none=True): the next backward writes
  // a fresh one, and a parameter it does not reach is skipped by step().
  void zero_grad();

  size_t num_groups() const { return groups_.size(); }
  const std::vector<Tensor>& params(size_t group) const;
  double lr(size_t group) const;
  void set_lr(size_t group, double lr);
  // The lr the group was created with; schedules scale it (PyTorch's "initial_lr").
  double initial_lr(size_t group) const;
  double weight_decay(size_t group) const;

  // Copies of the state and hyper-parameters (layout above): later steps do not change them.
  StateDict state_dict() const;
  // Replaces state and hyper-parameters with `dict`'s (copied, converted to each parameter's
  // dtype and device); the parameters themselves stay. The groups must have the same sizes.
  // Throws on a missing or unknown key, or a buffer whose shape is not its parameter's.
  void load_state_dict(const StateDict& dict);

 protected:
  struct Group {
    std::vector<Tensor> params;
    double lr = 0;
    double weight_decay = 0;
    double initial_lr = 0;
  };
  struct ParamState {
    int64_t step = 0;                       // updates applied so far
    std::map<std::string, Tensor> buffers;  // the subclass's, by name
  };

  // `name` prefixes error messages ("SGD", "AdamW"). Checks the default lr and weight decay.
  Optimizer(const char* name, std::vector<ParamGroup> groups, double default_lr, double default_weight_decay);

  // Updates one parameter. grad is contiguous with param's shape and dtype; state.step has
  // already been incremented, so it counts this update.
  virtual void update(const Tensor& param, const Tensor& grad, ParamState& state, const Group& group) = 0;
  // Buffer names a parameter's state may hold.
  virtual std::vector<std::string> buffer_names() const = 0;
  // Optimiser-wide hyper-parameters, saved as defaults.<name>; set_defaults validates them.
  virtual std::vector<std::pair<std::string, double>> defaults() const = 0;
  virtual void set_defaults(const std::map<std::string, double>& values) = 0;

  // Throws naming the optimiser when value is negative or not finite.
  void check_non_negative(const char* what, double value) const;

  const char* name_;

 private:
  const Group& group_at(size_t group) const;  // throws when out of range

  std::vector<Group> groups_;
  std::vector<ParamState> state_;  // by parameter number
};

}  // namespace maskdet::optim
