// View ops (reshape, permute, slice, expand, ...) and copies (contiguous, clone, to).
// A view shares its input's storage; its backward maps the gradient back to the input's shape.
#include <algorithm>
#include <numeric>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/copy.h"

namespace maskdet {

using autograd::record;

namespace {
// Resolves one -1 entry and checks the element count.
Shape infer_shape(const Shape& requested, int64_t numel, const Shape& from) {
  Shape s = requested;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      MASKDET_CHECK(infer < 0, "view: only one dimension can be -1 in ", shape_str(requested));
      infer = static_cast<int64_t>(i);
    } else {
      MASKDET_CHECK(s[i] >= 0, "view: invalid size in ", shape_str(requested));
      known *= s[i];
    }
  }
  if (infer >= 0) {
    MASKDET_CHECK(known != 0 && numel % known == 0, "view: cannot view shape ", shape_str(from), " as ",
                  shape_str(requested));
    s[infer] = numel / known;
  }
  MASKDET_CHECK(shape_numel(s) == numel, "view: shape ", shape_str(requested), " is invalid for ", numel,
                " elements of shape ", shape_str(from));
  return s;
}

// Strides for viewing (shape, strides) as new_shape without copying, or empty when impossible.
// Groups of old dims that are contiguous with each other may be split or merged.
std::optional<Shape> view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape) {
  if (shape_numel(shape) == 0) return contiguous_strides(new_shape);
  Shape out(new_shape.size());
  int64_t view_d = static_cast<int64_t>(new_shape.size()) - 1;
  int64_t chunk_base_stride = strides.empty() ? 1 : strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= shape[d];
    if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) {
    for (; view_d >= 0; --view_d) {
      if (new_shape[view_d] != 1) return std::nullopt;
      out[view_d] = 1;
    }
  }
  return out;
}

Tensor reshape_backward(const Tensor& g, const Shape& shape) { return g.reshape(shape); }
}  // namespace

Tensor Tensor::view(const Shape& requested) const {
  const Shape s = infer_shape(requested, numel(), shape());
  auto st = view_strides(shape(), strides(), s);
  MASKDET_CHECK(st.has_value(), "view: shape ", shape_str(s), " is not compatible with the strides of this ",
                shape_str(shape()), " tensor; use reshape() (which copies)");
  Tensor out = make_view(*this, s, *st, offset());
  const Shape in_shape = shape();
  record("ViewBackward", {*this}, out, [in_shape](const Tensor& g) -> std::vector<Tensor> {
    return {reshape_backward(g, in_shape)};
  });
  return out;
}

Tensor Tensor::reshape(const Shape& requested) const {
  const Shape s = infer_shape(requested, numel(), shape());
  if (view_strides(shape(), strides(), s)) return view(s);
  return contiguous().view(s);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  const int64_t s = normalize_dim(start_dim, dim(), "flatten"), e = normalize_dim(end_dim, dim(), "flatten");
  MASKDET_CHECK(s <= e, "flatten: start_dim ", start_dim, " after end_dim ", end_dim);
  Shape out(shape().begin(), shape().begin() + s);
  int64_t n = 1;
  for (int64_t d = s; d <= e; ++d) n *= shape()[d];
  out.push_back(n);
  out.insert(out.end(), shape().begin() + e + 1, shape().end());
  return reshape(out);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  MASKDET_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute: ", dims.size(), " dims for a tensor of shape ",
                shape_str(shape()));
  Shape s(dim()), st(dim());
  std::vector<int64_t> inverse(dim(), -1);
  for (int64_t i = 0; i < dim(); ++i) {
    const int64_t d = normalize_dim(dims[i], dim(), "permute");
    MASKDET_CHECK(inverse[d] < 0, "permute: dim ", d, " repeated");
    inverse[d] = i;
    s[i] = shape()[d];
    st[i] = strides()[d];
  }
  Tensor out = make_view(*this, s, st, offset());
  record("PermuteBackward", {*this}, out, [inverse](const Tensor& g) -> std::vector<Tensor> {
    return {g.permute(inverse)};
  });
  return out;
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  std::vector<int64_t> dims(dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[normalize_dim(d0, dim(), "transpose")], dims[normalize_dim(d1, dim(), "transpose")]);
  return permute(dims);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  d = normalize_dim(d, dim(), "slice");
  MASKDET_CHECK(step > 0, "slice: step must be positive, got ", step);
  const int64_t n = shape()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape s = shape(), st = strides();
  s[d] = (end - start + step - 1) / step;
  st[d] *= step;
  Tensor out = make_view(*this, s, st, offset() + start * strides()[d]);
  const Shape in_shape = shape();
  const TensorOptions opts = options();
  record("SliceBackward", {*this}, out, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = zeros(in_shape, opts);
    kernels::copy(g, gx.slice(d, start, end, step));
    return {gx};
  });
  return out;
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = normalize_dim(d, dim(), "select");
  const int64_t n = shape()[d];
  MASKDET_CHECK(index >= -n && index < n, "select: index ", index, " out of range for dim ", d, " of shape ",
                shape_str(shape()));
  if (index < 0) index += n;
  return slice(d, index, index + 1).squeeze(d);
}

Tensor Tensor::expand(const Shape& target) const {
  MASKDET_CHECK(static_cast<int64_t>(target.size()) >= dim(), "expand: cannot expand shape ", shape_str(shape()),
                " to fewer dims ", shape_str(target));
  const int64_t lead = static_cast<int64_t>(target.size()) - dim();
  Shape st(target.size(), 0);
  for (int64_t i = 0; i < static_cast<int64_t>(target.size()); ++i) {
    if (i < lead) continue;
    const int64_t src = shape()[i - lead];
    MASKDET_CHECK(src == target[i] || src == 1, "expand: shape ", shape_str(shape()), " cannot be expanded to ",
                  shape_str(target));
    st[i] = src == 1 && target[i] != 1 ? 0 : strides()[i - lead];
  }
  if (target == shape()) return *this;
  Tensor out = make_view(*this, target, st, offset());
  const Shape in_shape = shape();
  record("ExpandBackward", {*this}, out, [in_shape](const Tensor& g) -> std::vector<Tensor> {
    return {sum_to(g, in_shape)};
  });
  return out;
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = normalize_dim(d, dim() + 1, "unsqueeze");
  Shape s = shape();
  s.insert(s.begin() + d, 1);
  return view(s);
}

Tensor Tensor::squeeze(int64_t d) const {
  d = normalize_dim(d, dim(), "squeeze");
  if (shape()[d] != 1) return *this;
  Shape s = shape();
  s.erase(s.begin() + d);
  return view(s);
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), options());
  kernels::copy(*this, out);
  record("CloneBackward", {*this}, out, [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
  return out;
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  Tensor out = empty(shape(), options().with_device(device));
  kernels::copy(*this, out);
  const Device from = this->device();
  record("ToDeviceBackward", {*this}, out, [from](const Tensor& g) -> std::vector<Tensor> { return {g.to(from)}; });
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  Tensor out = empty(shape(), options().with_dtype(dtype));
  kernels::copy(*this, out);
  const DType from = this->dtype();
  if (is_floating(dtype))
    record("ToDTypeBackward", {*this}, out, [from](const Tensor& g) -> std::vector<Tensor> { return {g.to(from)}; });
  return out;
}

}  // namespace maskdet
