// The moving average of a model's weights (weight_average.h).
#include "layers/optim/weight_average.h"

#include <algorithm>

#include "autograd/grad_mode.h"
#include "tensor/kernels/copy.h"
#include "tensor/kernels/optim.h"
#include "tensor/shape.h"

namespace maskdet::optim {

namespace {

// The model's entries in the averages' order, checked to be the same names, shapes and dtypes.
nn::NamedTensors matching_entries(const nn::NamedTensors& averages, const nn::Module& model) {
  nn::NamedTensors own = model.state_dict();
  MASKDET_CHECK(own.size() == averages.size(), "WeightAverage: the model has ", own.size(),
                " state entries, the average ", averages.size());
  for (size_t i = 0; i < own.size(); ++i) {
    const auto& [name, value] = own[i];
    const Tensor& average = averages[i].second;
    MASKDET_CHECK(name == averages[i].first, "WeightAverage: entry ", i, " is '", name, "' in the model, '",
                  averages[i].first, "' in the average");
    MASKDET_CHECK(value.shape() == average.shape() && value.dtype() == average.dtype() &&
                      value.device() == average.device(),
                  "WeightAverage: '", name, "' is ", shape_str(value.shape()), " ", dtype_name(value.dtype()),
                  " in the model, ", shape_str(average.shape()), " ", dtype_name(average.dtype()), " in the average");
  }
  return own;
}

}  // namespace

WeightAverage::WeightAverage(const nn::Module& model, double decay) : decay_(decay) {
  MASKDET_CHECK(decay >= 0 && decay < 1, "WeightAverage: decay must be in [0, 1), got ", decay);
  for (const auto& [name, value] : model.state_dict()) averages_.emplace_back(name, value.detach().clone());
}

double WeightAverage::decay_after(int64_t updates) const {
  const double n = static_cast<double>(updates);
  return std::min(decay_, (1 + n) / (10 + n));
}

void WeightAverage::update(const nn::Module& model) {
  NoGradGuard no_grad;
  const nn::NamedTensors own = matching_entries(averages_, model);
  const double d = decay_after(updates_);
  for (size_t i = 0; i < own.size(); ++i) {
    const Tensor value = own[i].second.detach().contiguous();
    if (is_floating(value.dtype())) kernels::ema_update(averages_[i].second, value, d);
    else kernels::copy(value, averages_[i].second);
  }
  ++updates_;
}

void WeightAverage::load(const std::map<std::string, Tensor>& averages, int64_t updates) {
  MASKDET_CHECK(updates >= 0, "WeightAverage: update count ", updates, " is negative");
  MASKDET_CHECK(averages.size() == averages_.size(), "WeightAverage: ", averages.size(),
                " averages to load, the model has ", averages_.size(), " state entries");
  for (const auto& [name, own] : averages_) {
    const auto it = averages.find(name);
    MASKDET_CHECK(it != averages.end(), "WeightAverage: no average for '", name, "'");
    MASKDET_CHECK(it->second.shape() == own.shape() && it->second.dtype() == own.dtype(), "WeightAverage: '", name,
                  "' is ", shape_str(it->second.shape()), " ", dtype_name(it->second.dtype()), ", the model's ",
                  shape_str(own.shape()), " ", dtype_name(own.dtype()));
  }
  NoGradGuard no_grad;
  for (auto& [name, own] : averages_) kernels::copy(averages.at(name), own);
  updates_ = updates;
}

WeightAverage::Swapped::Swapped(const WeightAverage& average, nn::Module& model)
    : targets_(matching_entries(average.averages_, model)) {
  NoGradGuard no_grad;
  for (size_t i = 0; i < targets_.size(); ++i) {
    saved_.emplace_back(targets_[i].first, targets_[i].second.detach().clone());
    kernels::copy(average.averages_[i].second, targets_[i].second);
  }
}

WeightAverage::Swapped::~Swapped() {
  NoGradGuard no_grad;
  for (size_t i = 0; i < targets_.size(); ++i) kernels::copy(saved_[i].second, targets_[i].second);
}

}  // namespace maskdet::optim
