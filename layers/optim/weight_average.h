// An exponential moving average of a model's weights (Polyak & Juditsky 1992, "Acceleration of
// stochastic approximation by averaging"), kept as timm's ModelEmaV2 and TensorFlow's
// tf.train.ExponentialMovingAverage keep it for detectors such as EfficientDet: after every
// optimiser step, each floating-point parameter and buffer moves
//   average = d * average + (1 - d) * value,   d = min(decay, (1 + n) / (10 + n))
// n being the number of updates before this one. The warm-up of d (TensorFlow's num_updates)
// lets the first updates follow the weights closely instead of keeping the initial ones for
// thousands of steps. Integer buffers are copied. Evaluating with the average rather than the
// last weights smooths out the noise of the last steps.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "layers/module.h"

namespace maskdet::optim {

class WeightAverage {
 public:
  // Starts as a copy of the model's state_dict, on its device. 0 <= decay < 1.
  WeightAverage(const nn::Module& model, double decay);

  // After an optimiser step: every entry one step towards the model's value.
  void update(const nn::Module& model);

  double decay() const { return decay_; }
  int64_t updates() const { return updates_; }
  // d of the update that follows `updates` earlier ones.
  double decay_after(int64_t updates) const;

  // The averages under the model's state_dict names.
  const nn::NamedTensors& averages() const { return averages_; }
  // Restores averages (every name of the model's state_dict, same shapes and dtypes) and the
  // update count, as a resumed run needs them. Throws naming the first entry that differs.
  void load(const std::map<std::string, Tensor>& averages, int64_t updates);

  // Puts the averages into the model's own tensors, in place; the model's values come back when
  // the scope ends (validation during training runs on the average, training goes on with the
  // weights).
  class Swapped {
   public:
    Swapped(const WeightAverage& average, nn::Module& model);
    ~Swapped();
    Swapped(const Swapped&) = delete;
    Swapped& operator=(const Swapped&) = delete;

   private:
    nn::NamedTensors targets_, saved_;
  };

 private:
  double decay_;
  int64_t updates_ = 0;
  nn::NamedTensors averages_;
};

}  // namespace maskdet::optim
