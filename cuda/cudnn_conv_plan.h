// cuDNN convolution plans: the descriptors of one convolution (RAII-wrapped) and the algorithm
// chosen for it, made once per (direction, dtype, device, math mode, sizes, Conv2dParams) and
// cached for the life of the process. Follows the cuDNN 9 API reference for the legacy
// convolution API of libcudnn_cnn (cudnnGetConvolution*Algorithm_v7,
// cudnnFindConvolution*AlgorithmEx, cudnnGetConvolution*WorkspaceSize,
// cudnnSetConvolutionMathType / GroupCount), which cuDNN 9 keeps but marks deprecated.
//
// How the algorithm is chosen:
//   default            cuDNN's heuristics (the _v7 queries, best first): the first algorithm
//                      whose real workspace (cudnnGetConvolution*WorkspaceSize) fits the limit.
//   MASKDET_CUDNN_BENCHMARK=1
//                      cudnnFindConvolution*AlgorithmEx times every algorithm on the call's
//                      own buffers (torch.backends.cudnn.benchmark); the fastest that fits wins.
//   MASKDET_CUDNN_DETERMINISTIC=1
//                      only algorithms cuDNN reports as deterministic are considered.
//   MASKDET_CUDNN_WORKSPACE_MB=N
//                      the workspace limit, default 512 MiB.
// When nothing fits the limit, the supported algorithm with the smallest workspace is used.
// The settings are read once; set_* below change them for plans made afterwards.
#pragma once
#include <cstddef>
#include <cstdint>

#include <cudnn.h>

#include "tensor/dtype.h"
#include "tensor/kernels/conv2d_checks.h"

namespace maskdet::cuda {

// ---- RAII descriptors (host objects; cheap, but the cached plans keep theirs) ----

class TensorDescriptor {
 public:
  TensorDescriptor();
  ~TensorDescriptor();
  TensorDescriptor(const TensorDescriptor&) = delete;
  TensorDescriptor& operator=(const TensorDescriptor&) = delete;
  // A dense NCHW tensor of (n, c, h, w); `what` names it when a size does not fit cuDNN's int.
  void set(cudnnDataType_t type, int64_t n, int64_t c, int64_t h, int64_t w, const char* what);
  cudnnTensorDescriptor_t get() const { return desc_; }

 private:
  cudnnTensorDescriptor_t desc_ = nullptr;
};

class FilterDescriptor {
 public:
  FilterDescriptor();
  ~FilterDescriptor();
  FilterDescriptor(const FilterDescriptor&) = delete;
  FilterDescriptor& operator=(const FilterDescriptor&) = delete;
  // A dense (out_channels, in_channels / groups, kh, kw) filter.
  void set(cudnnDataType_t type, int64_t out_channels, int64_t group_in, int64_t kh, int64_t kw);
  cudnnFilterDescriptor_t get() const { return desc_; }

 private:
  cudnnFilterDescriptor_t desc_ = nullptr;
};

class ConvolutionDescriptor {
 public:
  ConvolutionDescriptor();
  ~ConvolutionDescriptor();
  ConvolutionDescriptor(const ConvolutionDescriptor&) = delete;
  ConvolutionDescriptor& operator=(const ConvolutionDescriptor&) = delete;
  // Cross-correlation (as torch's conv2d) with `params`, computing in `type`.
  void set(cudnnDataType_t type, const Conv2dParams& params);
  void set_math_type(cudnnMathType_t math);
  cudnnConvolutionDescriptor_t get() const { return desc_; }

 private:
  cudnnConvolutionDescriptor_t desc_ = nullptr;
};

// CUDNN_DATA_FLOAT / CUDNN_DATA_DOUBLE; other dtypes are an error naming `kernel`.
cudnnDataType_t cudnn_data_type(DType dtype, const char* kernel);

// alpha = 1 and beta = 0 for a cuDNN call on `dtype` data: cuDNN reads its scaling factors as
// double for double data and as float otherwise.
struct CudnnScalars {
  float f_one = 1.f, f_zero = 0.f;
  double d_one = 1.0, d_zero = 0.0;
  bool is_double;
  explicit CudnnScalars(DType dtype) : is_double(dtype == DType::Float64) {}
  const void* one() const { return is_double ? static_cast<const void*>(&d_one) : &f_one; }
  const void* zero() const { return is_double ? static_cast<const void*>(&d_zero) : &f_zero; }
};

// ---- plans ----

enum class ConvDirection { Forward, BackwardData, BackwardFilter };

// The sizes of one convolution, as the kernels' checks establish them: x (batch, channels,
// height, width), weight (out_channels, channels / groups, kernel_h, kernel_w), y (batch,
// out_channels, out_h, out_w).
using ConvShape = kernels::Conv2dShape;

// Device pointers of the call a plan is made for. A timed search (MASKDET_CUDNN_BENCHMARK) runs
// the candidates on them and overwrites the direction's output (y, x or w).
struct ConvBuffers {
  void* x;  // (N, C, H, W)
  void* w;  // (O, C / G, KH, KW)
  void* y;  // (N, O, OH, OW)
};

struct ConvPlan {
  TensorDescriptor x;          // (N, C, H, W)
  FilterDescriptor w;          // (O, C / G, KH, KW)
  TensorDescriptor y;          // (N, O, OH, OW)
  ConvolutionDescriptor conv;  // carries the chosen algorithm's math type
  // cudnnConvolutionFwdAlgo_t, cudnnConvolutionBwdDataAlgo_t or cudnnConvolutionBwdFilterAlgo_t,
  // by direction.
  int algo = 0;
  size_t workspace_bytes = 0;
};

// The cached plan for this convolution on the current device, made on first use. Every size
// must be positive (cuDNN rejects empty tensors; the kernels handle those without cuDNN).
// The reference stays valid for the life of the process.
const ConvPlan& conv_plan(ConvDirection direction, DType dtype, const ConvShape& shape, const ConvBuffers& buffers);

// The settings of the file comment, for plans made after the call.
void set_cudnn_benchmark(bool on);
void set_cudnn_deterministic(bool on);
void set_cudnn_workspace_limit(size_t bytes);

}  // namespace maskdet::cuda
