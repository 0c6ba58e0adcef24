// Conv2d layer: parameters, PyTorch's default initialisation and the forward through conv2d.
#include "layers/conv2d.h"

#include <sstream>

#include "autograd/ops.h"
#include "layers/init.h"
#include "tensor/creation.h"

namespace maskdet::nn {

Conv2d::Conv2d(const Conv2dOptions& options) : UnaryModule("Conv2d"), options_(options) {
  const Conv2dOptions& o = options_;
  MASKDET_CHECK(o.in_channels > 0 && o.out_channels > 0 && o.kernel_size > 0, "Conv2d: in_channels (",
                o.in_channels, "), out_channels (", o.out_channels, ") and kernel_size (", o.kernel_size,
                ") must be positive");
  MASKDET_CHECK(o.stride > 0 && o.dilation > 0 && o.padding >= 0, "Conv2d: stride (", o.stride, ") and dilation (",
                o.dilation, ") must be positive, padding (", o.padding, ") non-negative");
  MASKDET_CHECK(o.groups > 0 && o.in_channels % o.groups == 0 && o.out_channels % o.groups == 0, "Conv2d: groups (",
                o.groups, ") must divide in_channels (", o.in_channels, ") and out_channels (", o.out_channels, ")");
  weight_ = register_parameter("weight",
                               empty({o.out_channels, o.in_channels / o.groups, o.kernel_size, o.kernel_size}));
  if (o.bias) bias_ = register_parameter("bias", empty({o.out_channels}));
  reset_parameters();
}

void Conv2d::reset_parameters() { init::layer_default_(weight_, bias_); }

maskdet::Conv2dOptions Conv2d::geometry() const {
  maskdet::Conv2dOptions geometry;
  geometry.stride(options_.stride).padding(options_.padding).dilation(options_.dilation).group_count(options_.groups);
  return geometry;
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight_, bias_, geometry()); }

std::string Conv2d::extra_repr() const {
  // As torch.nn.Conv2d prints itself: defaults left out.
  const Conv2dOptions& o = options_;
  std::ostringstream os;
  const auto pair = [&os](const char* key, int64_t v) { os << ", " << key << "=(" << v << ", " << v << ")"; };
  os << o.in_channels << ", " << o.out_channels;
  pair("kernel_size", o.kernel_size);
  pair("stride", o.stride);
  if (o.padding != 0) pair("padding", o.padding);
  if (o.dilation != 1) pair("dilation", o.dilation);
  if (o.groups != 1) os << ", groups=" << o.groups;
  if (!o.bias) os << ", bias=False";
  return os.str();
}

}  // namespace maskdet::nn
