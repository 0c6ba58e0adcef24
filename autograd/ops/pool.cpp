// max_pool2d as torch.nn.functional.max_pool2d (no dilation): the forward keeps the argmax
// of every window, the backward routes each output gradient to it.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/pool.h"

namespace maskdet {

using autograd::record;

namespace {

// The output length along one axis, after checking the window parameters for that axis.
int64_t checked_output_size(const char* axis, int64_t in, int64_t kernel, int64_t stride, int64_t pad, bool ceil_mode,
                            const Tensor& x) {
  MASKDET_CHECK(kernel > 0 && stride > 0 && pad >= 0, "max_pool2d: kernel ", kernel, " and stride ", stride,
                " must be positive and padding ", pad, " non-negative (", axis, ")");
  // A wider padding would allow windows that see nothing but padding.
  MASKDET_CHECK(pad <= kernel / 2, "max_pool2d: padding ", pad, " must be at most half the kernel size ", kernel,
                " (", axis, ")");
  const int64_t out = pool_output_size(in, kernel, stride, pad, ceil_mode);
  MASKDET_CHECK(out > 0, "max_pool2d: input ", shape_str(x.shape()), " is too small for kernel ", kernel,
                ", stride ", stride, ", padding ", pad, " (", axis, ")");
  return out;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2dOptions& options) {
  MASKDET_CHECK(x.defined() && x.dim() == 4, "max_pool2d: input must be (N, C, H, W), got shape ",
                x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  MASKDET_CHECK(is_floating(x.dtype()), "max_pool2d: input must be float32 or float64, got ", dtype_name(x.dtype()));
  MASKDET_CHECK(x.size(2) > 0 && x.size(3) > 0, "max_pool2d: input ", shape_str(x.shape()), " has an empty spatial dim");
  const Pool2dWindow window{options.kernel_h, options.kernel_w, options.stride_h, options.stride_w,
                            options.pad_h,    options.pad_w,    options.ceil_mode};
  const int64_t out_h =
      checked_output_size("height", x.size(2), window.kernel_h, window.stride_h, window.pad_h, window.ceil_mode, x);
  const int64_t out_w =
      checked_output_size("width", x.size(3), window.kernel_w, window.stride_w, window.pad_w, window.ceil_mode, x);
  const Shape out_shape{x.size(0), x.size(1), out_h, out_w};
  Tensor out = empty(out_shape, x.options());
  Tensor indices = empty(out_shape, x.options().with_dtype(DType::Int64));
  kernels::max_pool2d_forward(x.detach().contiguous(), out, indices, window);
  const Shape in_shape = x.shape();
  const TensorOptions opts = x.options();
  record("MaxPool2dBackward", {x}, out, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = empty(in_shape, opts);
    kernels::max_pool2d_backward(g.contiguous(), indices, gx);
    return {gx};
  });
  return out;
}

}  // namespace maskdet
