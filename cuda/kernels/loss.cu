// CUDA loss kernels: the fused per-element loss + gradient of tensor/kernels/loss.h (contract
// there), one thread per element through the strided launcher of cuda/kernels/strided.cuh
// (so broadcast and permuted operands work as on the CPU). The element maths is the CPU's own
// (tensor/kernels/loss_math.h) and the ignored-element rule mirrors tensor/cpu/loss.cpp, so the
// two backends differ only by the rounding of exp / log1p / pow (CUDA C++ Programming Guide,
// "Mathematical Functions": a few ulp) and, outside the BCE core, by nvcc fusing a multiply and
// an add into one FMA.
#include "cuda/kernels/strided.cuh"
#include "tensor/kernels/loss.h"
#include "tensor/kernels/loss_checks.h"
#include "tensor/kernels/loss_math.h"

namespace maskdet::cuda {
namespace {

enum class LossKind { Bce, L1, SmoothL1, Focal };

struct LossParams {
  double beta = 0, alpha = 0, gamma = 0;
};

namespace loss_math = kernels::loss_math;

// One element's unweighted loss and gradient (tensor/kernels/loss_math.h, the CPU's maths).
template <class T, LossKind kKind>
__device__ void loss_element(T x, T t, const LossParams& params, T& l, T& g) {
  if constexpr (kKind == LossKind::Bce) loss_math::bce_element(x, t, loss_math::logit_terms(x), l, g);
  else if constexpr (kKind == LossKind::L1) loss_math::l1_element(x, t, l, g);
  else if constexpr (kKind == LossKind::SmoothL1) loss_math::smooth_l1_element(x, t, params.beta, l, g);
  else loss_math::focal_element(x, t, params.alpha, params.gamma, l, g);
}

// Operand order of the offsets: prediction, target, loss, grad, weight.
constexpr int kOperands = 5;

// One element: off[k] is operand k's element offset. weight may be null (weight 1).
template <class T, LossKind kKind>
struct LossOp {
  const T* pred;    // (*)
  const T* target;  // (*)
  const T* weight;  // (*) or null
  T* loss;          // (*)
  T* grad;          // (*)
  LossParams params;

  __device__ void operator()(const int64_t (&off)[kOperands]) const {
    T l, g;
    if (!weight) {
      loss_element<T, kKind>(pred[off[0]], target[off[1]], params, l, g);
      loss[off[2]] = l;
      grad[off[3]] = g;
      return;
    }
    const T w = weight[off[4]];
    // Ignored elements never evaluate the loss: exact zeros even for inf / nan inputs.
    if (w == T(0)) {
      loss[off[2]] = T(0);
      grad[off[3]] = T(0);
      return;
    }
    loss_element<T, kKind>(pred[off[0]], target[off[1]], params, l, g);
    loss[off[2]] = w * l;
    grad[off[3]] = w * g;
  }
};

template <LossKind kKind>
void pointwise_loss(const char* kernel, const Tensor& pred, const Tensor& target, const Tensor& weight,
                    const Tensor& loss, const Tensor& grad, const LossParams& params) {
  kernels::check_loss_args(kernel, pred, target, weight, loss, grad, Backend::Cuda);
  // The tensors' GPU must be current: the stream the launcher uses belongs to it.
  DeviceGuard guard(pred.device().index);
  dispatch_floating(pred.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const T* wp = weight.defined() ? weight.data_ptr<T>() : nullptr;
    const LossOp<T, kKind> op{pred.data_ptr<T>(), target.data_ptr<T>(), wp, loss.data_ptr<T>(), grad.data_ptr<T>(),
                              params};
    // Without a weight its slot walks the prediction's strides, which merges no fewer dims.
    const Tensor& weight_layout = weight.defined() ? weight : pred;
    launch_strided<kOperands>(pred.shape(),
                              {&pred.strides(), &target.strides(), &loss.strides(), &grad.strides(),
                               &weight_layout.strides()},
                              op, kernel);
  });
}

}  // namespace

void bce_with_logits(const Tensor& logits, const Tensor& targets, const Tensor& weight, const Tensor& loss,
                     const Tensor& grad) {
  pointwise_loss<LossKind::Bce>("bce_with_logits", logits, targets, weight, loss, grad, {});
}

void l1(const Tensor& pred, const Tensor& target, const Tensor& loss, const Tensor& grad) {
  pointwise_loss<LossKind::L1>("l1", pred, target, Tensor(), loss, grad, {});
}

void smooth_l1(const Tensor& pred, const Tensor& target, double beta, const Tensor& loss, const Tensor& grad) {
  kernels::check_smooth_l1_beta(beta);
  pointwise_loss<LossKind::SmoothL1>("smooth_l1", pred, target, Tensor(), loss, grad, {beta, 0, 0});
}

void sigmoid_focal_loss(const Tensor& logits, const Tensor& targets, const Tensor& weight, double alpha, double gamma,
                        const Tensor& loss, const Tensor& grad) {
  kernels::check_focal_gamma(gamma);
  pointwise_loss<LossKind::Focal>("sigmoid_focal_loss", logits, targets, weight, loss, grad, {0, alpha, gamma});
}

}  // namespace maskdet::cuda
