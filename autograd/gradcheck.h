// gradcheck: compares the gradients backward() computes with central finite differences.
//
// The function's output y is reduced to the scalar L = sum(y * w) with a fixed random w, so
// one backward gives dL/dx for every input element; each is compared with
// (L(x + eps) - L(x - eps)) / (2 eps). Inputs should be float64.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace maskdet::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-4;
  uint64_t seed = 1234;
};

struct GradcheckResult {
  bool ok = true;
  double worst_error = 0;  // max over elements of |analytic - numeric| - (atol + rtol * |numeric|)
  std::string worst;       // "input 1 element (0, 2, 1): analytic 0.3, numeric 0.31, |diff| 0.01"
  int64_t elements_checked = 0;
};

// Checks every element of every input with requires_grad set.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace maskdet::autograd
