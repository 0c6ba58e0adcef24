// The scalar maths of SiLU / Swish, silu(x) = x * sigmoid(x) (Elfwing et al. 2018, "Sigmoid-
// Weighted Linear Units for Neural Network Function Approximation in Reinforcement Learning";
// Ramachandran et al. 2017, "Searching for Activation Functions"), written once for both the CPU
// kernel (tensor/cpu/silu.cpp) and the CUDA one (cuda/kernels/silu.cu), so the two backends
// cannot drift apart. Plain C maths only: it has to compile as device code under nvcc.
#pragma once
#include "tensor/kernels/scalar_math.h"

namespace maskdet::kernels::silu_math {

using scalar_math::exponential;

// 1 / (1 + e^-x) overflows e^-x for x below about -88 (float32) or -709 (float64); taking
// e^x for negative x instead keeps every intermediate finite. Large |x| then gives exactly 0
// or 1, never NaN.
template <class T>
MASKDET_SCALAR_HD inline T sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + exponential(-x));
  const T e = exponential(x);
  return e / (T(1) + e);
}

template <class T>
MASKDET_SCALAR_HD inline T value(T x) {
  return x * sigmoid(x);
}

// d/dx [x s(x)] = s(x) + x s(x) (1 - s(x)) = s(x) (1 + x (1 - s(x))). Where s underflows to 0
// (very negative x) the product is 0 * finite = 0, the true limit.
template <class T>
MASKDET_SCALAR_HD inline T derivative(T x) {
  const T s = sigmoid(x);
  return s * (T(1) + x * (T(1) - s));
}

}  // namespace maskdet::kernels::silu_math

