// Weight initialisers, as torch.nn.init: each fills a tensor in place (its handle and storage stay,
// so a layer's parameter handles stay valid), records no graph, and returns the tensor.
// Random ones draw from `gen`, or from default_generator() when it is null.
//
// Kaiming (He et al. 2015, "Delving Deep into Rectifiers"): std = gain / sqrt(fan), where fan
// is fan_in (the default; preserves the forward activations' variance) or fan_out (preserves
// the backward gradients' variance); the uniform variant draws from U(-b, b) with
// b = sqrt(3) * std, which has that std.
#pragma once
#include <cstdint>

#include "tensor/generator.h"
#include "tensor/tensor.h"

namespace maskdet::nn::init {

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity { Linear, Conv2d, Sigmoid, Tanh, ReLU, LeakyReLU };

// torch.nn.init.calculate_gain: 1 for linear, conv and sigmoid; 5/3 for tanh; sqrt(2) for relu;
// sqrt(2 / (1 + slope^2)) for leaky relu with that negative slope.
double calculate_gain(Nonlinearity nonlinearity, double negative_slope = 0.01);

// For a weight of shape (out, in, *kernel): fan_in = in * prod(kernel), fan_out = out * prod(kernel).
// Needs at least 2 dims.
struct Fans {
  int64_t fan_in = 0;
  int64_t fan_out = 0;
};
Fans calculate_fans(const Tensor& weight);

// `a` is the negative slope of the leaky ReLU that follows (0 for ReLU), used for the gain.
Tensor kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator* gen = nullptr);
Tensor kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                       Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator* gen = nullptr);

// Note the order: std first (the value usually set, e.g. normal_(w, 0.01) for RetinaNet's head),
// unlike torch.nn.init.normal_(tensor, mean, std).
Tensor normal_(const Tensor& t, double std = 1.0, double mean = 0.0, Generator* gen = nullptr);
// U(lo, hi).
Tensor uniform_(const Tensor& t, double lo = 0.0, double hi = 1.0, Generator* gen = nullptr);
Tensor constant_(const Tensor& t, double value);
Tensor zeros_(const Tensor& t);
Tensor ones_(const Tensor& t);

// The default initialisation of torch.nn.Linear and torch.nn.Conv2d: the weight by
// kaiming_uniform_(a = sqrt(5)), which works out as U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the
// bias (when defined) from the same range.
void layer_default_(const Tensor& weight, const Tensor& bias, Generator* gen = nullptr);

// The classification bias of RetinaNet (Lin et al. 2017, section 4.1): -log((1 - prior) / prior),
// so that every anchor starts out predicting foreground with probability `prior`, and the
// loss of the many easy negatives does not swamp the first iterations.
Tensor prior_probability_bias_(const Tensor& bias, double prior = 0.01);

}  // namespace maskdet::nn::init
