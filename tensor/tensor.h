// Tensor: a shape, strides and an element offset over a reference-counted Storage, plus
// the autograd metadata (requires_grad, .grad, the node that produced it).
//
// A Tensor is a cheap handle: copying it shares the same TensorImpl. Views (reshape,
// permute, slice, expand, ...) make a new TensorImpl over the same Storage. Every
// differentiable operation lives in autograd/ops.h; the methods below that compute
// (operator+, sum, matmul, ...) are sugar for those functions.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/storage.h"

namespace maskdet {

namespace autograd {
class Node;
}

struct TensorOptions {
  DType dtype = DType::Float32;
  Device device = Device::cpu();
  bool requires_grad = false;

  TensorOptions with_dtype(DType d) const { auto o = *this; o.dtype = d; return o; }
  TensorOptions with_device(Device d) const { auto o = *this; o.device = d; return o; }
  TensorOptions with_requires_grad(bool r) const { auto o = *this; o.requires_grad = r; return o; }
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;       // in elements
  int64_t offset = 0;  // in elements, from storage->data()
  DType dtype = DType::Float32;

  // Autograd metadata.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;                  // accumulated gradient of a leaf
  std::shared_ptr<autograd::Node> grad_fn;           // node that produced this tensor (non-leaf)
  std::weak_ptr<autograd::Node> grad_accumulator;    // the leaf's AccumulateGrad node, made on demand
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }

  // ---- metadata ----
  const Shape& shape() const { return impl_->shape; }
  const Shape& strides() const { return impl_->strides; }
  int64_t offset() const { return impl_->offset; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  int64_t size(int64_t d) const;
  int64_t numel() const { return shape_numel(impl_->shape); }
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device(); }
  bool is_cuda() const { return device().is_cuda(); }
  bool is_contiguous() const;
  TensorOptions options() const { return {dtype(), device(), false}; }
  const std::shared_ptr<Storage>& storage() const { return impl_->storage; }

  // Pointer to the first element (device memory for CUDA tensors). Checks the dtype.
  template <class T>
  T* data_ptr() const {
    MASKDET_CHECK(dtype_of<T>() == dtype(), "data_ptr: tensor is ", dtype_name(dtype()), ", asked for ",
                  dtype_name(dtype_of<T>()));
    return static_cast<T*>(impl_->storage->data()) + impl_->offset;
  }
  void* raw_data() const {
    return static_cast<char*>(impl_->storage->data()) + impl_->offset * static_cast<int64_t>(dtype_size(dtype()));
  }

  // ---- values on the host ----
  // The single element of a one-element tensor, converted to double.
  double item() const;
  // All elements in row-major order, converted to T (copies to the host if needed).
  template <class T>
  std::vector<T> to_vector() const;
  // One element by index, converted to double (for tests and debugging).
  double at(const std::vector<int64_t>& index) const;

  // ---- autograd ----
  bool requires_grad() const { return impl_->requires_grad; }
  // Only leaves (tensors not produced by a differentiable op) may be flagged by hand.
  Tensor& set_requires_grad(bool r);
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  Tensor grad() const { return impl_->grad ? Tensor(impl_->grad) : Tensor(); }
  void set_grad(const Tensor& g) { impl_->grad = g.defined() ? g.impl() : nullptr; }
  // Drops the accumulated gradient (the next backward writes a fresh one).
  void zero_grad() { impl_->grad = nullptr; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl_->grad_fn; }
  // Runs backpropagation from this tensor. `gradient` defaults to 1 for a one-element tensor.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  // Same data, cut from the graph: no grad_fn, requires_grad false.
  Tensor detach() const;
  // Points this tensor (every handle sharing its TensorImpl) at other's data: storage, shape,
  // strides, offset and dtype; autograd flags stay. How modules move parameters between devices
  // or load weights without breaking the handles layers hold. Leaves only.
  void set_data(const Tensor& other) const;

  // ---- views (no copy; differentiable) ----
  Tensor view(const Shape& shape) const;     // needs compatible strides; -1 infers one dim
  Tensor reshape(const Shape& shape) const;  // view when possible, else a contiguous copy
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;  // slice of length 1, dim removed
  Tensor expand(const Shape& shape) const;          // broadcast to shape (stride 0)
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;

  // ---- copies (differentiable) ----
  Tensor contiguous() const;  // itself when already contiguous
  Tensor clone() const;
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;

  // ---- math sugar (see autograd/ops.h) ----
  Tensor operator-() const;
  Tensor sum() const;
  Tensor sum(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor abs() const;
  Tensor pow(double exponent) const;
  Tensor clamp(double lo, double hi) const;
  Tensor matmul(const Tensor& other) const;

  std::string str() const;  // readable printing, as PyTorch does

 private:
  std::shared_ptr<TensorImpl> impl_;
};

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// A TensorImpl view over `base`'s storage (no autograd metadata). Used by view ops.
Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset);

}  // namespace maskdet
