// AdamW: option checks, state buffer handling; the update itself is kernels::adamw_update.
#include "layers/optim/adamw.h"

#include "tensor/creation.h"
#include "tensor/kernels/optim.h"

namespace maskdet::optim {

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& options)
    : AdamW(std::vector<ParamGroup>{ParamGroup{std::move(params)}}, options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options)
    : Optimizer("AdamW", std::move(groups), options.lr, options.weight_decay), options_(options) {
  validate(options_);
}

void AdamW::validate(const AdamWOptions& options) const {
  // lr and weight_decay: checked by the Optimizer constructor and load_state_dict.
  check_non_negative("eps", options.eps);
  // beta = 1 would freeze the average at zero and make the bias correction divide by zero.
  MASKDET_CHECK(options.beta1 >= 0 && options.beta1 < 1, name_, ": invalid beta1 ", options.beta1,
                " (must be in [0, 1))");
  MASKDET_CHECK(options.beta2 >= 0 && options.beta2 < 1, name_, ": invalid beta2 ", options.beta2,
                " (must be in [0, 1))");
}

void AdamW::update(const Tensor& param, const Tensor& grad, ParamState& state, const Group& group) {
  Tensor& exp_avg = state.buffers["exp_avg"];
  Tensor& exp_avg_sq = state.buffers["exp_avg_sq"];
  if (!exp_avg.defined()) exp_avg = zeros_like(param);
  if (!exp_avg_sq.defined()) exp_avg_sq = zeros_like(param);
  kernels::adamw_update(param, grad, exp_avg, exp_avg_sq, group.lr, options_.beta1, options_.beta2, options_.eps,
                        group.weight_decay, state.step);
}

std::vector<std::pair<std::string, double>> AdamW::defaults() const {
  return {{"lr", options_.lr},
          {"beta1", options_.beta1},
          {"beta2", options_.beta2},
          {"eps", options_.eps},
          {"weight_decay", options_.weight_decay}};
}

void AdamW::set_defaults(const std::map<std::string, double>& values) {
  AdamWOptions options;
  options.lr = values.at("lr");
  options.beta1 = values.at("beta1");
  options.beta2 = values.at("beta2");
  options.eps = values.at("eps");
  options.weight_decay = values.at("weight_decay");
  validate(options);
  options_ = options;
}

}  // namespace maskdet::optim
