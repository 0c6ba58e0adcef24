// upsample_nearest2d as torch.nn.functional.interpolate(mode='nearest'), given either the
// output size or a scale factor (then the output size is floor(in * scale), and the scale
// itself, not in / out, maps output pixels back to input pixels, as PyTorch does).
#include <cmath>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/upsample.h"

namespace maskdet {

using autograd::record;

namespace {

void check_input(const Tensor& x) {
  MASKDET_CHECK(x.defined() && x.dim() == 4, "upsample_nearest2d: input must be (N, C, H, W), got shape ",
                x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  MASKDET_CHECK(is_floating(x.dtype()), "upsample_nearest2d: input must be float32 or float64, got ",
                dtype_name(x.dtype()));
  MASKDET_CHECK(x.size(2) > 0 && x.size(3) > 0, "upsample_nearest2d: input ", shape_str(x.shape()),
                " has an empty spatial dim");
}

// scale: the caller's scale factor, or 0 when it gave the output size.
Tensor upsample_nearest2d_impl(const Tensor& x, int64_t out_h, int64_t out_w, double scale) {
  MASKDET_CHECK(out_h > 0 && out_w > 0, "upsample_nearest2d: output size (", out_h, ", ", out_w,
                ") must be positive, input ", shape_str(x.shape()));
  Tensor out = empty({x.size(0), x.size(1), out_h, out_w}, x.options());
  kernels::upsample_nearest2d_forward(x.detach().contiguous(), out, scale, scale);
  const Shape in_shape = x.shape();
  const TensorOptions opts = x.options();
  record("UpsampleNearest2dBackward", {x}, out, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = empty(in_shape, opts);
    kernels::upsample_nearest2d_backward(g.contiguous(), gx, scale, scale);
    return {gx};
  });
  return out;
}

}  // namespace

Tensor upsample_nearest2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  check_input(x);
  return upsample_nearest2d_impl(x, out_h, out_w, 0.0);
}

Tensor upsample_nearest2d(const Tensor& x, double scale) {
  MASKDET_CHECK(scale > 0 && std::isfinite(scale), "upsample_nearest2d: scale must be positive, got ", scale);
  check_input(x);
  const auto scaled = [&](int64_t in) { return static_cast<int64_t>(std::floor(static_cast<double>(in) * scale)); };
  return upsample_nearest2d_impl(x, scaled(x.size(2)), scaled(x.size(3)), scale);
}

}  // namespace maskdet
