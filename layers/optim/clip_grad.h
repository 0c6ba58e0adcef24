// Gradient-norm clipping, as torch.nn.utils.clip_grad_norm_ (Pascanu et al. 2013, "On the
// difficulty of training recurrent neural networks"): one norm over all gradients together,
// and one common scale, so the update keeps its direction. Detection training uses it to
// survive the large early gradients of the regression loss.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace maskdet::optim {

// total = the norm_type-norm of all gradients together ((sum over every element |g|^p)^(1/p),
// or max |g| for norm_type = infinity); parameters whose grad is undefined are left out.
// When max_norm / (total + 1e-6) < 1 every gradient is scaled in place by that factor (the
// 1e-6 keeps the clipped norm just under max_norm, as PyTorch). Returns total, the norm
// before clipping (0 when no parameter has a gradient). A NaN or infinite total scales the
// gradients to NaN or 0 rather than throwing, as PyTorch's default; check the return value.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);

}  // namespace maskdet::optim
