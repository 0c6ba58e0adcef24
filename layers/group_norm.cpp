// GroupNorm layer: its parameters and the forward through group_norm.
#include "layers/group_norm.h"

#include <sstream>

#include "autograd/ops.h"
#include "tensor/creation.h"

namespace maskdet::nn {

GroupNorm::GroupNorm(const GroupNormOptions& options) : UnaryModule("GroupNorm"), options_(options) {
  const int64_t groups = options_.num_groups, channels = options_.num_channels;
  MASKDET_CHECK(groups > 0 && channels > 0 && channels % groups == 0, "GroupNorm: num_groups (", groups,
                ") must be positive and divide num_channels (", channels, ")");
  if (options_.affine) {
    weight_ = register_parameter("weight", ones({channels}));
    bias_ = register_parameter("bias", zeros({channels}));
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  MASKDET_CHECK(x.defined() && x.dim() >= 2 && x.size(1) == options_.num_channels, "GroupNorm: expected (N, ",
                options_.num_channels, ", *) input, got shape ", x.defined() ? shape_str(x.shape()) : "undefined");
  return group_norm(x, options_.num_groups, weight_, bias_, options_.eps);
}

std::string GroupNorm::extra_repr() const {
  std::ostringstream os;
  os << options_.num_groups << ", " << options_.num_channels << ", eps=" << options_.eps
     << ", affine=" << (options_.affine ? "True" : "False");
  return os.str();
}

}  // namespace maskdet::nn
