// Small helpers shared by the op unit tests: tensors from literal values.
#pragma once
#include <string>
#include <vector>

#include "test_util.h"

namespace maskdet::test {

inline Tensor f64(const std::vector<double>& values, const Shape& shape) {
  return from_vector<double>(values, shape, {DType::Float64});
}

inline Tensor int64s(const std::vector<int64_t>& values, const Shape& shape) {
  return from_vector<int64_t>(values, shape, {DType::Int64});
}


}  // namespace maskdet::test
