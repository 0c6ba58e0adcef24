// Reductions: sum and mean over chosen dims (backward: expand the gradient back), max.
#include <algorithm>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/index.h"
#include "tensor/kernels/reduce.h"

namespace maskdet {

using autograd::record;

namespace {
// Sorted unique dims in range; empty means all.
std::vector<int64_t> reduce_dims(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < x.dim(); ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(normalize_dim(d, x.dim(), op));
  std::sort(out.begin(), out.end());
  MASKDET_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), op, ": a dim is repeated");
  return out;
}

Shape keepdim_shape(const Shape& s, const std::vector<int64_t>& dims) {
  Shape k = s;
  for (int64_t d : dims) k[d] = 1;
  return k;
}

Shape dropped_shape(const Shape& s, const std::vector<int64_t>& dims) {
  Shape out;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
    if (!std::binary_search(dims.begin(), dims.end(), d)) out.push_back(s[d]);
  return out;
}
}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  const auto dims = reduce_dims(x, dims_in, "sum");
  const Shape kshape = keepdim_shape(x.shape(), dims);
  Tensor out = empty(kshape, x.options());
  kernels::sum_forward(x, dims, out);
  if (!keepdim) out = make_view(out, dropped_shape(x.shape(), dims), contiguous_strides(dropped_shape(x.shape(), dims)), 0);
  const Shape in_shape = x.shape();
  record("SumBackward", {x}, out, [=](const Tensor& g) -> std::vector<Tensor> {
    return {g.reshape(kshape).expand(in_shape).contiguous()};
  });
  return out;
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  const auto dims = reduce_dims(x, dims_in, "mean");
  int64_t count = 1;
  for (int64_t d : dims) count *= x.size(d);
  return sum(x, dims, keepdim) / static_cast<double>(count);
}

Tensor Tensor::sum() const { return maskdet::sum(*this); }
Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim) const { return maskdet::sum(*this, dims, keepdim); }
Tensor Tensor::mean() const { return maskdet::mean(*this); }
Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim) const {
  return maskdet::mean(*this, dims, keepdim);
}


// max over one dim: the kernel records the argmax, and the backward scatters the gradient
// there (first maximum on ties, so exactly one input per output gets it).
MaxResult max(const Tensor& x, int64_t dim, bool keepdim) {
  MASKDET_CHECK(x.defined(), "max: undefined input");
  if (x.dim() == 0) {
    normalize_dim(dim, 0, "max");
    return max(x.reshape({1}), 0, false);
  }
  dim = normalize_dim(dim, x.dim(), "max");
  MASKDET_CHECK(x.size(dim) > 0, "max: cannot take the max over dim ", dim, " of size 0 (input ",
                shape_str(x.shape()), ")");
  const Shape kshape = keepdim_shape(x.shape(), {dim});
  Tensor values = empty(kshape, x.options());
  const Tensor kept_indices = empty(kshape, x.options().with_dtype(DType::Int64));
  kernels::max_forward(x.detach(), dim, values, kept_indices);
  Tensor indices = kept_indices;
  if (!keepdim) {
    const Shape dropped = dropped_shape(x.shape(), {dim});
    values = make_view(values, dropped, contiguous_strides(dropped), 0);
    indices = make_view(kept_indices, dropped, contiguous_strides(dropped), 0);
  }
  const Shape in_shape = x.shape();
  const TensorOptions opts = x.options();
  record("MaxBackward", {x}, values, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = zeros(in_shape, opts);
    kernels::gather_backward(g.reshape(kshape), dim, kept_indices, gx);
    return {gx};
  });
  return {values, indices};
}

Tensor max(const Tensor& x) {
  MASKDET_CHECK(x.defined() && x.numel() > 0, "max: input ", x.defined() ? shape_str(x.shape()) : "undefined",
                " has no elements");
  return max(x.reshape({-1}), 0).values;
}

}  // namespace maskdet
