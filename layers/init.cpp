// Weight initialisers (torch.nn.init semantics). Random values are drawn on the host in the
// tensor's dtype, then copied into its storage on whatever device it lives.
#include "layers/init.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "tensor/creation.h"
#include "tensor/kernels/copy.h"

namespace maskdet::nn::init {

namespace {

void check_floating(const Tensor& t, const char* initialiser) {
  MASKDET_CHECK(t.defined(), initialiser, ": undefined tensor");
  MASKDET_CHECK(is_floating(t.dtype()), initialiser, ": expected a float32 or float64 tensor, got ",
                dtype_name(t.dtype()));
}

// Overwrites t with `values` (a host tensor of t's shape and dtype).
Tensor copy_into(const Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  kernels::copy(values, t);
  return t;
}

// The std Kaiming initialisation gives t.
double kaiming_std(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, const char* initialiser) {
  check_floating(t, initialiser);
  const Fans fans = calculate_fans(t);
  const int64_t fan = mode == FanMode::FanIn ? fans.fan_in : fans.fan_out;
  MASKDET_CHECK(fan > 0, initialiser, ": a tensor of shape ", shape_str(t.shape()), " has no fan");
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, double negative_slope) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv2d:
    case Nonlinearity::Sigmoid: return 1.0;
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: return std::sqrt(2.0 / (1.0 + negative_slope * negative_slope));
  }
  MASKDET_FAIL("calculate_gain: unknown nonlinearity");
}

Fans calculate_fans(const Tensor& weight) {
  MASKDET_CHECK(weight.dim() >= 2, "calculate_fans: needs a tensor of at least 2 dims, got shape ",
                shape_str(weight.shape()));
  int64_t receptive_field = 1;
  for (int64_t d = 2; d < weight.dim(); ++d) receptive_field *= weight.size(d);
  return {weight.size(1) * receptive_field, weight.size(0) * receptive_field};
}

Tensor kaiming_uniform_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, Generator* gen) {
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity, "kaiming_uniform_");
  return uniform_(t, -bound, bound, gen);
}

Tensor kaiming_normal_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, Generator* gen) {
  return normal_(t, kaiming_std(t, a, mode, nonlinearity, "kaiming_normal_"), 0.0, gen);
}

Tensor normal_(const Tensor& t, double std, double mean, Generator* gen) {
  check_floating(t, "normal_");
  MASKDET_CHECK(std >= 0, "normal_: std must be >= 0, got ", std);
  return copy_into(t, randn(t.shape(), {t.dtype()}, gen, mean, std));
}

Tensor uniform_(const Tensor& t, double lo, double hi, Generator* gen) {
  check_floating(t, "uniform_");
  MASKDET_CHECK(lo <= hi, "uniform_: lo (", lo, ") must not exceed hi (", hi, ")");
  return copy_into(t, rand(t.shape(), {t.dtype()}, gen, lo, hi));
}

Tensor constant_(const Tensor& t, double value) {
  MASKDET_CHECK(t.defined(), "constant_: undefined tensor");
  NoGradGuard no_grad;
  kernels::fill(t, value);
  return t;
}

Tensor zeros_(const Tensor& t) { return constant_(t, 0.0); }
Tensor ones_(const Tensor& t) { return constant_(t, 1.0); }

void layer_default_(const Tensor& weight, const Tensor& bias, Generator* gen) {
  kaiming_uniform_(weight, std::sqrt(5.0), FanMode::FanIn, Nonlinearity::LeakyReLU, gen);
  if (!bias.defined()) return;
  const double bound = 1.0 / std::sqrt(static_cast<double>(calculate_fans(weight).fan_in));
  uniform_(bias, -bound, bound, gen);
}

Tensor prior_probability_bias_(const Tensor& bias, double prior) {
  MASKDET_CHECK(prior > 0.0 && prior < 1.0, "prior_probability_bias_: prior must be in (0, 1), got ", prior);
  return constant_(bias, -std::log((1.0 - prior) / prior));
}

}  // namespace maskdet::nn::init
