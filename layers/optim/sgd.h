// Stochastic gradient descent with momentum, as torch.optim.SGD: coupled weight decay (added
// to the gradient), momentum with dampening, and Nesterov's variant (Sutskever et al. 2013,
// "On the importance of initialization and momentum in deep learning"). The arithmetic is in
// the sgd_update kernel (tensor/kernels/optim.h). RetinaNet is trained with this (Lin et al.
// 2017: lr 0.01, momentum 0.9, weight decay 1e-4).
#pragma once
#include <vector>

#include "layers/optim/optimizer.h"

namespace maskdet::optim {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;  // the default for groups that do not set their own
  bool nesterov = false;    // needs momentum > 0 and dampening == 0, as PyTorch
};

// State per parameter: "momentum_buffer" (when momentum != 0).
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, const SGDOptions& options);
  SGD(std::vector<ParamGroup> groups, const SGDOptions& options);

  const SGDOptions& options() const { return options_; }

 protected:
  void update(const Tensor& param, const Tensor& grad, ParamState& state, const Group& group) override;
  std::vector<std::string> buffer_names() const override { return {"momentum_buffer"}; }
  std::vector<std::pair<std::string, double>> defaults() const override;
  void set_defaults(const std::map<std::string, double>& values) override;

 private:
  void validate(const SGDOptions& options) const;

  SGDOptions options_;
};

}  // namespace maskdet::optim
