// Differentiable operations: the functions models are written with. Each one validates
// its inputs, calls kernels:: (which dispatch to the CPU or CUDA implementation) and,
// when an input requires grad, records a node whose backward sits next to the forward in
// autograd/ops/<family>.cpp.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "autograd/replica_sum.h"
#include "tensor/tensor.h"

namespace maskdet {

enum class Reduction { None, Sum, Mean };

// ---- elementwise (autograd/ops/elementwise.cpp); binary ops broadcast numpy-style ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // gradient to a where a >= b, else to b
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor clamp(const Tensor& x, double lo, double hi);
Tensor pow(const Tensor& x, double exponent);
// out = mask ? a : b; mask uint8 (non-differentiable); all three broadcast.
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);
// Comparisons: uint8 0/1 results, no gradient.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
// Reduces a broadcast gradient back to `shape` (sums over broadcast dims).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- reductions (autograd/ops/reduce.cpp); an empty dims list means all dims ----
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
struct MaxResult {
  Tensor values;   // differentiable
  Tensor indices;  // int64, first maximum on ties
};
MaxResult max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);  // over all elements

// ---- linear algebra (autograd/ops/matmul.cpp) ----
// (M, K) @ (K, N) -> (M, N); (B, M, K) @ (B, K, N) -> (B, M, N); (B, M, K) @ (K, N) -> (B, M, N).
Tensor matmul(const Tensor& a, const Tensor& b);
// x: (N, in), weight: (out, in), bias: (out) or undefined -> (N, out), as torch.nn.functional.linear.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---- joining and indexing (autograd/ops/index.cpp) ----
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim);
// Picks slices of x along dim: index int64 (K) -> x.shape with dim of size K.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// out[i][j][k] = x[i][index[i][j][k]][k] for dim 1 (torch.gather); index int64, same rank as x.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);

// ---- convolution and pooling (autograd/ops/conv.cpp, autograd/ops/pool.cpp) ----
struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  Conv2dOptions& stride(int64_t s) { stride_h = stride_w = s; return *this; }
  Conv2dOptions& padding(int64_t p) { pad_h = pad_w = p; return *this; }
  Conv2dOptions& dilation(int64_t d) { dilation_h = dilation_w = d; return *this; }
  Conv2dOptions& group_count(int64_t g) { groups = g; return *this; }
};
// x: (N, C, H, W), weight: (O, C/groups, KH, KW), bias: (O) or undefined -> (N, O, OH, OW).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const Conv2dOptions& options = {});

struct Pool2dOptions {
  int64_t kernel_h = 2, kernel_w = 2;
  int64_t stride_h = 2, stride_w = 2;
  int64_t pad_h = 0, pad_w = 0;
  bool ceil_mode = false;
};
// x: (N, C, H, W) -> (N, C, OH, OW); padding counts as -inf.
Tensor max_pool2d(const Tensor& x, const Pool2dOptions& options);
// Nearest-neighbour upsampling to (out_h, out_w), PyTorch's 'nearest' index rule: src = floor(dst * in / out).
Tensor upsample_nearest2d(const Tensor& x, int64_t out_h, int64_t out_w);
// To floor(in * scale); as PyTorch, output pixels then map back with src = floor(dst / scale).
Tensor upsample_nearest2d(const Tensor& x, double scale);

// ---- normalisation (autograd/ops/batch_norm.cpp) ----
// x: (N, C, H, W) or (N, C); weight, bias: (C) or undefined (no affine); running_mean,
// running_var: (C) buffers or undefined. Training: normalises with the batch statistics and
// updates the running ones in place (running = (1 - momentum) * running + momentum * batch,
// with the unbiased batch variance), as torch.nn.functional.batch_norm. Eval: uses the running ones.
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);
// batch_norm's training mode over the union of the batches of the replicas `replicas` joins
// (autograd/ops/batch_norm.cpp too), as torch.nn.SyncBatchNorm: every replica normalises with
// the same statistics and updates its running ones with them; backward sums across the
// replicas too, so each replica must call it (and its backward) in the same order. With one
// replica it equals batch_norm(..., training = true, ...).
Tensor sync_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, const std::shared_ptr<ReplicaSum>& replicas, double momentum = 0.1,
                       double eps = 1e-5);

// ---- losses (autograd/ops/loss.cpp); targets and weights get no gradient ----
// Numerically stable BCE on logits; weight (broadcast to logits) scales each element.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, const Tensor& weight = Tensor(),
                                        Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
// 0.5 * d^2 / beta where |d| < beta, else |d| - 0.5 * beta; beta = 0 is L1.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, double beta = 1.0,
                      Reduction reduction = Reduction::Mean);
struct FocalLossOptions {
  double alpha = 0.25;  // weight of positives; negatives get 1 - alpha. alpha < 0 disables it.
  double gamma = 2.0;   // gamma = 0 is (alpha-weighted) BCE with logits
};
// Sigmoid focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection"), fused:
// one kernel computes each element's loss and its gradient. weight (broadcast to logits)
// scales each element; 0 ignores it (e.g. anchors between the IoU thresholds).
Tensor sigmoid_focal_loss(const Tensor& logits, const Tensor& targets, const FocalLossOptions& options = {},
                          const Tensor& weight = Tensor(), Reduction reduction = Reduction::Sum);

// ---- group normalisation (autograd/ops/group_norm.cpp) ----
// x: (N, C, *spatial); the C channels split into num_groups groups of consecutive channels, each
// (sample, group) normalised with its own mean and biased variance, then weight, bias: (C) or
// undefined (no affine) applied per channel, as torch.nn.functional.group_norm (Wu & He 2018).
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  double eps = 1e-5);

// ---- SiLU / Swish (autograd/ops/silu.cpp; the worked example of docs/ADDING_A_LAYER.md) ----
// x * sigmoid(x), as torch.nn.functional.silu; float32 or float64, any shape. Fused: one kernel
// each way, and the backward recomputes sigmoid from x instead of saving it.
Tensor silu(const Tensor& x);

}  // namespace maskdet
