// AdamW, as torch.optim.AdamW: Adam (Kingma & Ba 2015, "Adam: A Method for Stochastic
// Optimization") with decoupled weight decay (Loshchilov & Hutter 2019, "Decoupled Weight
// Decay Regularization"): the decay shrinks the parameter directly instead of entering the
// moment estimates. The arithmetic is in the adamw_update kernel (tensor/kernels/optim.h).
#pragma once
#include <vector>

#include "layers/optim/optimizer.h"

namespace maskdet::optim {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;   // decay of the first-moment average, in [0, 1)
  double beta2 = 0.999; // decay of the second-moment average, in [0, 1)
  double eps = 1e-8;    // added to the bias-corrected root of the second moment
  double weight_decay = 1e-2;  // the default for groups that do not set their own
};

// State per parameter: "exp_avg" and "exp_avg_sq"; the step count drives the bias corrections.
class AdamW : public Optimizer {
 public:
  AdamW(std::vector<Tensor> params, const AdamWOptions& options);
  AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options);

  const AdamWOptions& options() const { return options_; }

 protected:
  void update(const Tensor& param, const Tensor& grad, ParamState& state, const Group& group) override;
  std::vector<std::string> buffer_names() const override { return {"exp_avg", "exp_avg_sq"}; }
  std::vector<std::pair<std::string, double>> defaults() const override;
  void set_defaults(const std::map<std::string, double>& values) override;

 private:
  void validate(const AdamWOptions& options) const;

  AdamWOptions options_;
};

}  // namespace maskdet::optim
