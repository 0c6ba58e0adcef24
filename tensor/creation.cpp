#include "tensor/creation.h"

#include <cmath>

#include "tensor/kernels/copy.h"

namespace maskdet {

Tensor empty(const Shape& shape, const TensorOptions& options) {
  for (int64_t s : shape) MASKDET_CHECK(s >= 0, "empty: negative size in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(options.dtype), options.device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = options.dtype;
  Tensor t(std::move(impl));
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

Tensor full(const Shape& shape, double value, const TensorOptions& options) {
  Tensor t = empty(shape, options.with_requires_grad(false));
  kernels::fill(t, value);
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

Tensor zeros(const Shape& shape, const TensorOptions& options) { return full(shape, 0.0, options); }
Tensor ones(const Shape& shape, const TensorOptions& options) { return full(shape, 1.0, options); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.options()); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.options()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.options()); }
Tensor scalar_tensor(double value, const TensorOptions& options) { return full({}, value, options); }

namespace {
// Fills a host tensor with gen-drawn values, then moves it where options asks.
template <class Draw>
Tensor random_tensor(const Shape& shape, const TensorOptions& options, Draw draw) {
  Tensor host = empty(shape, {DType::Float64});
  double* p = host.data_ptr<double>();
  for (int64_t i = 0, n = host.numel(); i < n; ++i) p[i] = draw();
  Tensor t = empty(shape, options.with_requires_grad(false));
  kernels::copy(host, t);
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}
}  // namespace

Tensor rand(const Shape& shape, const TensorOptions& options, Generator* gen, double lo, double hi) {
  Generator& g = gen ? *gen : default_generator();
  return random_tensor(shape, options, [&] { return lo + (hi - lo) * g.uniform(); });
}

Tensor randn(const Shape& shape, const TensorOptions& options, Generator* gen, double mean, double std) {
  Generator& g = gen ? *gen : default_generator();
  return random_tensor(shape, options, [&] { return mean + std * g.normal(); });
}

Tensor arange(double start, double end, double step, const TensorOptions& options) {
  MASKDET_CHECK(step != 0.0, "arange: step must not be zero");
  const int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((end - start) / step)));
  int64_t i = 0;
  return random_tensor({n}, options, [&] { return start + step * static_cast<double>(i++); });
}

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, const TensorOptions& options) {
  MASKDET_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
                " values for shape ", shape_str(shape), " (", shape_numel(shape), " elements)");
  Tensor src = from_blob(const_cast<T*>(values.data()), shape, dtype_of<T>());
  Tensor t = empty(shape, options.with_requires_grad(false));
  kernels::copy(src, t);
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}
template Tensor from_vector(const std::vector<float>&, const Shape&, const TensorOptions&);
template Tensor from_vector(const std::vector<double>&, const Shape&, const TensorOptions&);
template Tensor from_vector(const std::vector<int64_t>&, const Shape&, const TensorOptions&);
template Tensor from_vector(const std::vector<uint8_t>&, const Shape&, const TensorOptions&);

Tensor from_blob(void* data, const Shape& shape, DType dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(data, shape_numel(shape) * dtype_size(dtype), Device::cpu(), nullptr);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

}  // namespace maskdet
