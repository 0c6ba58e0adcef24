// silu (autograd/ops.h): the differentiable op over the SiLU kernels, in the four steps every
// op here takes (docs/ARCHITECTURE.md, "The op"): validate, allocate, call kernels::, record the
// backward. Matches torch.nn.functional.silu.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/silu.h"

namespace maskdet {

namespace {

// The CUDA kernels index flat arrays, the CPU ones follow any strides: only a CUDA operand is
// copied to dense memory, and only when it is not dense already.
Tensor kernel_operand(const Tensor& t) { return t.is_cuda() ? t.contiguous() : t; }

}  // namespace

Tensor silu(const Tensor& x) {
  MASKDET_CHECK(x.defined(), "silu: undefined input");
  MASKDET_CHECK(is_floating(x.dtype()), "silu: x must be float32 or float64, got ", dtype_name(x.dtype()), " ",
                shape_str(x.shape()));
  // Detached: the copy kernel_operand may make is the op's own business, not a graph node.
  const Tensor xk = kernel_operand(x.detach());
  Tensor out = empty(x.shape(), x.options());
  kernels::silu_forward(xk, out);
  if (autograd::any_requires_grad({x})) {
    // Only x is saved; the backward recomputes sigmoid(x), cheaper than keeping a second tensor
    // of x's size alive until the backward runs.
    autograd::record("SiluBackward", {x}, out, [xk](const Tensor& grad_out) -> std::vector<Tensor> {
      Tensor grad_x = empty(xk.shape(), xk.options());
      // The incoming gradient may be a view, e.g. the permuted one a transpose's backward passes on.
      kernels::silu_backward(kernel_operand(grad_out), xk, grad_x);
      return {grad_x};
    });
  }
  return out;
}

}  // namespace maskdet
