// Joining and indexing: cat and stack (copies into slices of one output; the backward hands
// each input its slice of the gradient), index_select and gather (their backwards scatter-add
// the gradient back to the picked positions).
#include <string>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/copy.h"
#include "tensor/kernels/index.h"

namespace maskdet {

using autograd::record;

namespace {

// "tensor 2 (2, 5)" for error messages.
std::string describe(const std::vector<Tensor>& tensors, size_t i) {
  return "tensor " + std::to_string(i) + " " + shape_str(tensors[i].shape());
}

// Checks that all inputs can be joined: same dtype, device and rank, and (for cat) equal sizes
// except along `dim`; for stack, `dim` is -1 and every size must match.
void check_joinable(const std::vector<Tensor>& tensors, int64_t dim, const char* op) {
  MASKDET_CHECK(!tensors.empty(), op, ": expected at least one tensor");
  for (size_t i = 0; i < tensors.size(); ++i) MASKDET_CHECK(tensors[i].defined(), op, ": tensor ", i, " is undefined");
  const Tensor& first = tensors[0];
  for (size_t i = 1; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    MASKDET_CHECK(t.dtype() == first.dtype(), op, ": ", describe(tensors, i), " is ", dtype_name(t.dtype()),
                  " but tensor 0 is ", dtype_name(first.dtype()));
    MASKDET_CHECK(t.device() == first.device(), op, ": ", describe(tensors, i), " is on ", t.device().str(),
                  " but tensor 0 is on ", first.device().str());
    MASKDET_CHECK(t.dim() == first.dim(), op, ": ", describe(tensors, i), " has ", t.dim(),
                  " dims but tensor 0 ", shape_str(first.shape()), " has ", first.dim());
    for (int64_t d = 0; d < t.dim(); ++d)
      MASKDET_CHECK(d == dim || t.size(d) == first.size(d), op, ": ", describe(tensors, i),
                    " does not match tensor 0 ", shape_str(first.shape()), " in dim ", d,
                    dim >= 0 ? " (sizes must match except in the cat dim)" : " (stack needs equal shapes)");
  }
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  MASKDET_CHECK(!tensors.empty(), "cat: expected at least one tensor");
  MASKDET_CHECK(tensors[0].defined(), "cat: tensor 0 is undefined");
  MASKDET_CHECK(tensors[0].dim() > 0, "cat: zero-dimensional tensor 0 cannot be concatenated; use stack");
  dim = normalize_dim(dim, tensors[0].dim(), "cat");
  check_joinable(tensors, dim, "cat");
  Shape out_shape = tensors[0].shape();
  out_shape[dim] = 0;
  std::vector<int64_t> starts;
  for (const Tensor& t : tensors) {
    starts.push_back(out_shape[dim]);
    out_shape[dim] += t.size(dim);
  }
  Tensor out = empty(out_shape, tensors[0].options());
  for (size_t i = 0; i < tensors.size(); ++i)
    kernels::copy(tensors[i], out.slice(dim, starts[i], starts[i] + tensors[i].size(dim)));
  record("CatBackward", tensors, out, [=](const Tensor& g) -> std::vector<Tensor> {
    std::vector<Tensor> grads;
    for (size_t i = 0; i < starts.size(); ++i) {
      const int64_t end = i + 1 < starts.size() ? starts[i + 1] : g.size(dim);
      grads.push_back(g.slice(dim, starts[i], end));
    }
    return grads;
  });
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  check_joinable(tensors, -1, "stack");
  dim = normalize_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> unsqueezed;
  unsqueezed.reserve(tensors.size());
  for (const Tensor& t : tensors) unsqueezed.push_back(t.unsqueeze(dim));
  return cat(unsqueezed, dim);
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  MASKDET_CHECK(x.defined() && index.defined(), "index_select: undefined input");
  MASKDET_CHECK(x.dim() > 0, "index_select: input must have at least one dim");
  dim = normalize_dim(dim, x.dim(), "index_select");
  MASKDET_CHECK(index.dim() == 1 && index.dtype() == DType::Int64, "index_select: index must be a 1-D int64 tensor, got ",
                dtype_name(index.dtype()), " ", shape_str(index.shape()));
  MASKDET_CHECK(index.device() == x.device(), "index_select: index is on ", index.device().str(), " but input is on ",
                x.device().str());
  Shape out_shape = x.shape();
  out_shape[dim] = index.size(0);
  Tensor out = empty(out_shape, x.options());
  const Tensor index_d = index.detach();
  kernels::index_select_forward(x.detach().contiguous(), dim, index_d, out);
  const Shape in_shape = x.shape();
  const TensorOptions opts = x.options();
  record("IndexSelectBackward", {x}, out, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = zeros(in_shape, opts);
    kernels::index_select_backward(g.contiguous(), dim, index_d, gx);
    return {gx};
  });
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  MASKDET_CHECK(x.defined() && index.defined(), "gather: undefined input");
  dim = normalize_dim(dim, x.dim(), "gather");
  MASKDET_CHECK(index.dtype() == DType::Int64, "gather: index must be int64, got ", dtype_name(index.dtype()));
  MASKDET_CHECK(index.dim() == x.dim(), "gather: index ", shape_str(index.shape()), " must have the rank of input ",
                shape_str(x.shape()));
  MASKDET_CHECK(index.device() == x.device(), "gather: index is on ", index.device().str(), " but input is on ",
                x.device().str());
  Tensor out = empty(index.shape(), x.options());
  const Tensor index_d = index.detach();
  kernels::gather_forward(x.detach(), dim, index_d, out);
  const Shape in_shape = x.shape();
  const TensorOptions opts = x.options();
  record("GatherBackward", {x}, out, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = zeros(in_shape, opts);
    kernels::gather_backward(g, dim, index_d, gx);
    return {gx};
  });
  return out;
}

}  // namespace maskdet
