// Tensor metadata, host access, printing and the autograd entry points.
#include "tensor/tensor.h"

#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/node.h"
#include "tensor/creation.h"
#include "tensor/kernels/copy.h"

namespace maskdet {

int64_t Tensor::size(int64_t d) const { return impl_->shape[normalize_dim(d, dim(), "size")]; }

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // no element to be out of place
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (impl_->shape[d] == 1) continue;
    if (impl_->strides[d] != expected) return false;
    expected *= impl_->shape[d];
  }
  return true;
}

namespace {
// A contiguous float64 host copy, for reading values.
Tensor host_f64(const Tensor& t) {
  Tensor h = empty(t.shape(), {DType::Float64});
  kernels::copy(t, h);
  return h;
}
}  // namespace

double Tensor::item() const {
  MASKDET_CHECK(numel() == 1, "item: tensor of shape ", shape_str(shape()), " has ", numel(),
                " elements, expected one");
  return host_f64(*this).data_ptr<double>()[0];
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor h = empty(shape(), {dtype_of<T>()});
  kernels::copy(*this, h);
  const T* p = h.data_ptr<T>();
  return std::vector<T>(p, p + h.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;

double Tensor::at(const std::vector<int64_t>& index) const {
  MASKDET_CHECK(static_cast<int64_t>(index.size()) == dim(), "at: ", index.size(), " indices for a tensor of shape ",
                shape_str(shape()));
  int64_t off = offset();
  for (int64_t d = 0; d < dim(); ++d) {
    MASKDET_CHECK(index[d] >= 0 && index[d] < shape()[d], "at: index ", index[d], " out of range for dim ", d,
                  " of shape ", shape_str(shape()));
    off += index[d] * strides()[d];
  }
  Tensor one = make_view(*this, {}, {}, off);
  return one.item();
}

Tensor& Tensor::set_requires_grad(bool r) {
  MASKDET_CHECK(is_leaf(), "set_requires_grad: only leaf tensors can be flagged; this one comes from ",
                "an operation (use detach() first)");
  MASKDET_CHECK(!r || is_floating(dtype()), "set_requires_grad: only float tensors can require grad, this one is ",
                dtype_name(dtype()));
  impl_->requires_grad = r;
  return *this;
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  Tensor g = gradient;
  if (!g.defined()) {
    MASKDET_CHECK(numel() == 1, "backward: a gradient must be given for a tensor of shape ", shape_str(shape()),
                  " (only one-element tensors default to 1)");
    g = ones(shape(), options());
  }
  autograd::run_backward(*this, g, retain_graph);
}

Tensor Tensor::detach() const { return make_view(*this, shape(), strides(), offset()); }

void Tensor::set_data(const Tensor& other) const {
  MASKDET_CHECK(is_leaf(), "set_data: only leaf tensors can have their data replaced");
  MASKDET_CHECK(!requires_grad() || is_floating(other.dtype()), "set_data: a tensor that requires grad needs float data, got ",
                dtype_name(other.dtype()));
  impl_->storage = other.storage();
  impl_->shape = other.shape();
  impl_->strides = other.strides();
  impl_->offset = other.offset();
  impl_->dtype = other.dtype();
  if (impl_->grad && (impl_->grad->shape != impl_->shape || impl_->grad->dtype != impl_->dtype ||
                     impl_->grad->storage->device() != other.device()))
    impl_->grad = nullptr;  // a stale gradient of another shape, dtype or device would be wrong
}

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

// ---- printing ----
namespace {
void print_rec(std::ostream& os, const Tensor& h, int64_t d, int64_t off, int indent, bool is_int) {
  const double* p = h.data_ptr<double>();
  const int64_t n = h.shape()[d];
  const bool last = d == h.dim() - 1;
  constexpr int64_t edge = 3;  // elements shown at each end of a long dim
  const bool summarize = n > 2 * edge + 1 && h.numel() > 1000;
  os << "[";
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && i == edge) {
      os << (last ? "..., " : "...,\n" + std::string(indent + 1, ' '));
      i = n - edge - 1;
      continue;
    }
    const int64_t o = off + i * h.strides()[d];
    if (last) {
      if (is_int) os << static_cast<int64_t>(p[o]);
      else os << std::setw(10) << std::setprecision(4) << p[o];
    } else {
      print_rec(os, h, d + 1, o, indent + 1, is_int);
    }
    if (i + 1 < n) os << (last ? ", " : ",\n" + std::string(indent + 1, ' '));
  }
  os << "]";
}
}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  const bool is_int = !is_floating(dtype());
  Tensor h = host_f64(*this);
  os << "tensor(";
  if (dim() == 0) {
    if (is_int) os << static_cast<int64_t>(h.data_ptr<double>()[0]);
    else os << h.data_ptr<double>()[0];
  } else {
    print_rec(os, h, 0, 0, 7, is_int);
  }
  os << ", shape=" << shape_str(shape()) << ", dtype=" << dtype_name(dtype());
  if (is_cuda()) os << ", device=" << device().str();
  if (requires_grad()) os << (grad_fn() ? ", grad_fn=" + grad_fn()->name() : std::string(", requires_grad=true"));
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace maskdet
