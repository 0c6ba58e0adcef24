// 2-D convolution as torch.nn.functional.conv2d, with gradients for the input (backward data),
// the weight (backward filter) and the bias (a sum of the output gradient over N, OH, OW).
#include <sstream>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/conv2d.h"

namespace maskdet {

using autograd::record;

namespace {

Conv2dParams to_params(const Conv2dOptions& o) {
  return {o.stride_h, o.stride_w, o.pad_h, o.pad_w, o.dilation_h, o.dilation_w, o.groups};
}

std::string options_str(const Conv2dOptions& o) {
  std::ostringstream os;
  os << "stride (" << o.stride_h << ", " << o.stride_w << "), padding (" << o.pad_h << ", " << o.pad_w
     << "), dilation (" << o.dilation_h << ", " << o.dilation_w << "), groups " << o.groups;
  return os.str();
}

// Throws, naming the shapes and options, unless x, weight and bias make a valid convolution.
// Returns the output shape.
Shape check_conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o) {
  MASKDET_CHECK(x.defined() && weight.defined(), "conv2d: undefined input");
  MASKDET_CHECK(x.dtype() == weight.dtype() && (!bias.defined() || bias.dtype() == x.dtype()),
                "conv2d: dtypes differ: x ", dtype_name(x.dtype()), ", weight ", dtype_name(weight.dtype()),
                bias.defined() ? ", bias " : "", bias.defined() ? dtype_name(bias.dtype()) : "");
  MASKDET_CHECK(x.device() == weight.device() && (!bias.defined() || bias.device() == x.device()),
                "conv2d: x, weight and bias must be on one device");
  const auto context = [&] {
    return "x " + shape_str(x.shape()) + ", weight " + shape_str(weight.shape()) +
           (bias.defined() ? ", bias " + shape_str(bias.shape()) : "") + ", " + options_str(o);
  };
  MASKDET_CHECK(x.dim() == 4, "conv2d: x must be 4-D (N, C, H, W); got ", context());
  MASKDET_CHECK(weight.dim() == 4, "conv2d: weight must be 4-D (O, C/groups, KH, KW); got ", context());
  MASKDET_CHECK(o.stride_h >= 1 && o.stride_w >= 1 && o.dilation_h >= 1 && o.dilation_w >= 1 && o.pad_h >= 0 &&
                    o.pad_w >= 0 && o.groups >= 1,
                "conv2d: strides, dilations and groups must be >= 1 and padding >= 0; got ", context());
  MASKDET_CHECK(x.size(1) % o.groups == 0 && weight.size(0) % o.groups == 0,
                "conv2d: input channels and output channels must be divisible by groups; got ", context());
  MASKDET_CHECK(weight.size(1) * o.groups == x.size(1) && weight.size(2) >= 1 && weight.size(3) >= 1,
                "conv2d: weight must be (O, C/groups = ", x.size(1) / o.groups, ", KH, KW); got ", context());
  MASKDET_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)), "conv2d: bias must be ",
                shape_str({weight.size(0)}), "; got ", context());
  const Conv2dParams p = to_params(o);
  const int64_t oh = p.out_h(x.size(2), weight.size(2)), ow = p.out_w(x.size(3), weight.size(3));
  MASKDET_CHECK(oh > 0 && ow > 0, "conv2d: the output would be empty (", oh, " x ", ow,
                "): the dilated kernel is larger than the padded input; got ", context());
  return {x.size(0), weight.size(0), oh, ow};
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& options) {
  const Shape out_shape = check_conv2d(x, weight, bias, options);
  const Conv2dParams params = to_params(options);
  const Tensor xd = x.detach().contiguous(), wd = weight.detach().contiguous();
  Tensor out = empty(out_shape, x.options());
  kernels::conv2d_forward(xd, wd, bias.defined() ? bias.detach().contiguous() : Tensor(), out, params);
  if (autograd::any_requires_grad({x, weight, bias})) {
    const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    // The data gradient needs the weight, the filter gradient the input.
    const Tensor saved_x = need_w ? xd : Tensor(), saved_w = need_x ? wd : Tensor();
    const Shape x_shape = x.shape(), w_shape = weight.shape();
    record("Conv2dBackward", {x, weight, bias}, out, [=](const Tensor& g) -> std::vector<Tensor> {
      const Tensor gd = g.contiguous();
      Tensor gx, gw, gb;
      if (need_x) {
        gx = empty(x_shape, gd.options());
        kernels::conv2d_backward_data(gd, saved_w, gx, params);
      }
      if (need_w) {
        gw = empty(w_shape, gd.options());
        kernels::conv2d_backward_filter(gd, saved_x, gw, params);
      }
      if (need_b) gb = sum(gd, {0, 2, 3});
      return {gx, gw, gb};
    });
  }
  return out;
}

}  // namespace maskdet
