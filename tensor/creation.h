// Making tensors: empty, zeros, ones, full, arange, random (seeded), from host memory.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/generator.h"
#include "tensor/tensor.h"

namespace maskdet {

Tensor empty(const Shape& shape, const TensorOptions& options = {});
Tensor zeros(const Shape& shape, const TensorOptions& options = {});
Tensor ones(const Shape& shape, const TensorOptions& options = {});
Tensor full(const Shape& shape, double value, const TensorOptions& options = {});
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
// A one-element tensor of shape () holding value.
Tensor scalar_tensor(double value, const TensorOptions& options = {});
// start, start+step, ... below end (numpy semantics).
Tensor arange(double start, double end, double step = 1.0, const TensorOptions& options = {});
// Uniform in [lo, hi) and normal(mean, std), drawn from `gen` (default_generator() when omitted).
Tensor rand(const Shape& shape, const TensorOptions& options = {}, Generator* gen = nullptr, double lo = 0.0,
            double hi = 1.0);
Tensor randn(const Shape& shape, const TensorOptions& options = {}, Generator* gen = nullptr, double mean = 0.0,
             double std = 1.0);
// Copies values (converted to options.dtype) into a new tensor of `shape`.
template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, const TensorOptions& options = {});
// Wraps existing host memory without copying; the caller keeps it alive.
Tensor from_blob(void* data, const Shape& shape, DType dtype);

}  // namespace maskdet
