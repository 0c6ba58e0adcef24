// SGD: option checks, state buffer handling; the update itself is kernels::sgd_update.
#include "layers/optim/sgd.h"

#include "tensor/creation.h"
#include "tensor/kernels/optim.h"

namespace maskdet::optim {

SGD::SGD(std::vector<Tensor> params, const SGDOptions& options)
    : SGD(std::vector<ParamGroup>{ParamGroup{std::move(params)}}, options) {}

SGD::SGD(std::vector<ParamGroup> groups, const SGDOptions& options)
    : Optimizer("SGD", std::move(groups), options.lr, options.weight_decay), options_(options) {
  validate(options_);
}

void SGD::validate(const SGDOptions& options) const {
  // lr and weight_decay: checked by the Optimizer constructor and load_state_dict.
  check_non_negative("momentum", options.momentum);
  check_non_negative("dampening", options.dampening);
  MASKDET_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0), name_,
                ": Nesterov momentum needs momentum > 0 and dampening 0, got momentum ", options.momentum,
                ", dampening ", options.dampening);
}

void SGD::update(const Tensor& param, const Tensor& grad, ParamState& state, const Group& group) {
  Tensor buffer;
  bool first_step = false;
  if (options_.momentum != 0) {
    Tensor& slot = state.buffers["momentum_buffer"];
    first_step = !slot.defined();
    if (first_step) slot = empty_like(param);  // the kernel overwrites it with the gradient
    buffer = slot;
  }
  kernels::sgd_update(param, grad, buffer, group.lr, options_.momentum, options_.dampening, group.weight_decay,
                      options_.nesterov, first_step);
}

std::vector<std::pair<std::string, double>> SGD::defaults() const {
  return {{"lr", options_.lr},
          {"momentum", options_.momentum},
          {"dampening", options_.dampening},
          {"weight_decay", options_.weight_decay},
          {"nesterov", options_.nesterov ? 1.0 : 0.0}};
}

void SGD::set_defaults(const std::map<std::string, double>& values) {
  SGDOptions options;
  options.lr = values.at("lr");
  options.momentum = values.at("momentum");
  options.dampening = values.at("dampening");
  options.weight_decay = values.at("weight_decay");
  options.nesterov = values.at("nesterov") != 0;
  validate(options);
  options_ = options;
}

}  // namespace maskdet::optim
