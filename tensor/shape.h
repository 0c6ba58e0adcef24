// Shapes and strides: small helpers shared by the tensor, the kernels and the ops.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace maskdet {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
// Row-major strides in elements for a dense tensor of this shape.
Shape contiguous_strides(const Shape& shape);
// "(2, 3, 4)"
std::string shape_str(const Shape& shape);
// Numpy broadcasting; throws naming both shapes when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b);
// Wraps a negative dim and checks it against ndim; `op` names the caller in the error.
int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);

}  // namespace maskdet
