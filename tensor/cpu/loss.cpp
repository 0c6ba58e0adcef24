// CPU loss kernels: each element's loss and its derivative in one pass (contract in
// tensor/kernels/loss.h), with the element maths of tensor/kernels/loss_math.h, shared with the
// CUDA kernels, over arbitrary strides.
#include "tensor/cpu/strided_loop.h"
#include "tensor/kernels/loss.h"
#include "tensor/kernels/loss_checks.h"
#include "tensor/kernels/loss_math.h"

namespace maskdet::cpu {
namespace {

namespace loss_math = kernels::loss_math;

// Runs element(x, t, loss, grad) over every element; with a weight, scales both by it and
// writes exact zeros where it is 0 (ignored elements never evaluate the loss).
template <class Element>
void pointwise_loss(const char* kernel, const Tensor& pred, const Tensor& target, const Tensor& weight,
                    const Tensor& loss, const Tensor& grad, const Element& element) {
  kernels::check_loss_args(kernel, pred, target, weight, loss, grad, Backend::Cpu);
  dispatch_floating(pred.dtype(), kernel, [&](auto zero) {
    using T = decltype(zero);
    const T* xp = pred.data_ptr<T>();
    const T* tp = target.data_ptr<T>();
    T* lp = loss.data_ptr<T>();
    T* gp = grad.data_ptr<T>();
    if (!weight.defined()) {
      for_each_offset<4>(pred.shape(), {pred.strides(), target.strides(), loss.strides(), grad.strides()},
                         [&](const std::array<int64_t, 4>& o) { element(xp[o[0]], tp[o[1]], lp[o[2]], gp[o[3]]); });
      return;
    }
    const T* wp = weight.data_ptr<T>();
    for_each_offset<5>(pred.shape(),
                       {pred.strides(), target.strides(), loss.strides(), grad.strides(), weight.strides()},
                       [&](const std::array<int64_t, 5>& o) {
                         const T w = wp[o[4]];
                         if (w == T(0)) {
                           lp[o[2]] = T(0);
                           gp[o[3]] = T(0);
                           return;
                         }
                         T l, g;
                         element(xp[o[0]], tp[o[1]], l, g);
                         lp[o[2]] = w * l;
                         gp[o[3]] = w * g;
                       });
  });
}

}  // namespace

void bce_with_logits(const Tensor& logits, const Tensor& targets, const Tensor& weight, const Tensor& loss,
                     const Tensor& grad) {
  pointwise_loss("bce_with_logits", logits, targets, weight, loss, grad, [](auto x, auto t, auto& l, auto& g) {
    loss_math::bce_element(x, t, loss_math::logit_terms(x), l, g);
  });
}

void l1(const Tensor& pred, const Tensor& target, const Tensor& loss, const Tensor& grad) {
  pointwise_loss("l1", pred, target, Tensor(), loss, grad,
                 [](auto p, auto t, auto& l, auto& g) { loss_math::l1_element(p, t, l, g); });
}

void smooth_l1(const Tensor& pred, const Tensor& target, double beta, const Tensor& loss, const Tensor& grad) {
  kernels::check_smooth_l1_beta(beta);
  pointwise_loss("smooth_l1", pred, target, Tensor(), loss, grad,
                 [beta](auto p, auto t, auto& l, auto& g) { loss_math::smooth_l1_element(p, t, beta, l, g); });
}

void sigmoid_focal_loss(const Tensor& logits, const Tensor& targets, const Tensor& weight, double alpha, double gamma,
                        const Tensor& loss, const Tensor& grad) {
  kernels::check_focal_gamma(gamma);
  pointwise_loss("sigmoid_focal_loss", logits, targets, weight, loss, grad,
                 [alpha, gamma](auto x, auto t, auto& l, auto& g) { loss_math::focal_element(x, t, alpha, gamma, l, g); });
}

}  // namespace maskdet::cpu
