// The cuDNN convolution plans of cuda/cudnn_conv_plan.h: descriptors, algorithm choice and the
// plan cache. Follows the cuDNN 9 API reference (cudnnSetTensor4dDescriptor,
// cudnnSetFilter4dDescriptor, cudnnSetConvolution2dDescriptor, cudnnSetConvolutionGroupCount,
// cudnnSetConvolutionMathType, cudnnGetConvolution*Algorithm_v7, cudnnFindConvolution*AlgorithmEx,
// cudnnGetConvolution*WorkspaceSize) and its cudnnMathType_t description.
#include "cuda/cudnn_conv_plan.h"

#include <array>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda/context.h"

namespace maskdet::cuda {

namespace {

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && std::strcmp(v, "1") == 0;
}

size_t env_workspace_limit() {
  const char* v = std::getenv("MASKDET_CUDNN_WORKSPACE_MB");
  if (!v || !*v) return size_t{512} << 20;
  char* end = nullptr;
  const long long mb = std::strtoll(v, &end, 10);
  MASKDET_CHECK(end && *end == '\0' && mb >= 0, "MASKDET_CUDNN_WORKSPACE_MB must be a number of MiB >= 0, got '", v,
                "'");
  return static_cast<size_t>(mb) << 20;
}

// Read from the environment on first use (not at static initialisation, where a bad value
// could not be reported as an Error).
struct Settings {
  std::atomic<bool> benchmark{env_flag("MASKDET_CUDNN_BENCHMARK")};
  std::atomic<bool> deterministic{env_flag("MASKDET_CUDNN_DETERMINISTIC")};
  std::atomic<size_t> workspace_limit{env_workspace_limit()};
};

Settings& settings() {
  static Settings s;
  return s;
}

int to_int(int64_t v, const char* what) {
  MASKDET_CHECK(v >= 0 && v <= INT_MAX, "cuDNN convolution: ", what, " = ", v, " does not fit cuDNN's int");
  return static_cast<int>(v);
}

const char* direction_name(ConvDirection d) {
  switch (d) {
    case ConvDirection::Forward: return "conv2d_forward";
    case ConvDirection::BackwardData: return "conv2d_backward_data";
    case ConvDirection::BackwardFilter: return "conv2d_backward_filter";
  }
  return "conv2d";
}

// One algorithm as cuDNN ranked it, with the math type it was ranked under.
struct Candidate {
  int algo;
  cudnnMathType_t math;
};

template <class Perf>
std::vector<Candidate> supported(const Perf* perf, int count) {
  const bool deterministic_only = settings().deterministic.load();
  std::vector<Candidate> out;
  for (int i = 0; i < count; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    // It may down-convert float data to half precision (see base_math).
    if (perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;
    if (deterministic_only && perf[i].determinism != CUDNN_DETERMINISTIC) continue;
    out.push_back({static_cast<int>(perf[i].algo), perf[i].mathType});
  }
  return out;
}

// The workspace `algo` needs under the descriptor's current math type; false where cuDNN
// does not support the algorithm for this convolution.
bool workspace_size(ConvDirection d, cudnnHandle_t h, const ConvPlan& p, int algo, size_t* bytes) {
  cudnnStatus_t s = CUDNN_STATUS_SUCCESS;
  switch (d) {
    case ConvDirection::Forward:
      s = cudnnGetConvolutionForwardWorkspaceSize(h, p.x.get(), p.w.get(), p.conv.get(), p.y.get(),
                                                  static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
      break;
    case ConvDirection::BackwardData:
      s = cudnnGetConvolutionBackwardDataWorkspaceSize(h, p.w.get(), p.y.get(), p.conv.get(), p.x.get(),
                                                       static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), bytes);
      break;
    case ConvDirection::BackwardFilter:
      s = cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p.x.get(), p.y.get(), p.conv.get(), p.w.get(),
                                                         static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), bytes);
      break;
  }
  return s == CUDNN_STATUS_SUCCESS;
}

int algo_count(ConvDirection d) {
  switch (d) {
    case ConvDirection::Forward: return CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
    case ConvDirection::BackwardData: return CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
    case ConvDirection::BackwardFilter: return CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  }
  return 0;
}

// cuDNN's heuristic ranking, best first.
std::vector<Candidate> heuristic_candidates(ConvDirection d, cudnnHandle_t h, const ConvPlan& p) {
  constexpr int kMax = 16;  // more than any *_ALGO_COUNT
  int n = 0;
  switch (d) {
    case ConvDirection::Forward: {
      cudnnConvolutionFwdAlgoPerf_t perf[kMax];
      CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p.x.get(), p.w.get(), p.conv.get(), p.y.get(), kMax, &n,
                                                         perf));
      return supported(perf, n);
    }
    case ConvDirection::BackwardData: {
      cudnnConvolutionBwdDataAlgoPerf_t perf[kMax];
      CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.w.get(), p.y.get(), p.conv.get(), p.x.get(), kMax,
                                                              &n, perf));
      return supported(perf, n);
    }
    case ConvDirection::BackwardFilter: {
      cudnnConvolutionBwdFilterAlgoPerf_t perf[kMax];
      CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.x.get(), p.y.get(), p.conv.get(), p.w.get(),
                                                                kMax, &n, perf));
      return supported(perf, n);
    }
  }
  return {};
}

// Every algorithm timed on the call's buffers, fastest first. The search gets a workspace as
// large as the largest one any algorithm needs within the limit, so that the algorithms it
// times are exactly those that could be chosen.
std::vector<Candidate> timed_candidates(ConvDirection d, cudnnHandle_t h, const ConvPlan& p, const ConvBuffers& b,
                                        size_t limit) {
  size_t search_bytes = 0;
  for (int a = 0; a < algo_count(d); ++a) {
    size_t bytes = 0;
    if (workspace_size(d, h, p, a, &bytes) && bytes <= limit && bytes > search_bytes) search_bytes = bytes;
  }
  void* ws = search_bytes > 0 ? workspace(search_bytes) : nullptr;
  constexpr int kMax = 16;
  int n = 0;
  switch (d) {
    case ConvDirection::Forward: {
      cudnnConvolutionFwdAlgoPerf_t perf[kMax];
      CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(h, p.x.get(), b.x, p.w.get(), b.w, p.conv.get(), p.y.get(),
                                                         b.y, kMax, &n, perf, ws, search_bytes));
      return supported(perf, n);
    }
    case ConvDirection::BackwardData: {
      cudnnConvolutionBwdDataAlgoPerf_t perf[kMax];
      CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(h, p.w.get(), b.w, p.y.get(), b.y, p.conv.get(),
                                                              p.x.get(), b.x, kMax, &n, perf, ws, search_bytes));
      return supported(perf, n);
    }
    case ConvDirection::BackwardFilter: {
      cudnnConvolutionBwdFilterAlgoPerf_t perf[kMax];
      CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, p.x.get(), b.x, p.y.get(), b.y, p.conv.get(),
                                                                p.w.get(), b.w, kMax, &n, perf, ws, search_bytes));
      return supported(perf, n);
    }
  }
  return {};
}

// The math type a plan starts from. PyTorch's choice: TF32 tensor cores for float32 exactly
// when allowed. CUDNN_DEFAULT_MATH permits TF32 on Ampere and later; CUDNN_FMA_MATH forbids any
// tensor-core rounding. CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION is not used: it would also let
// cuDNN down-convert float32 data to half precision, more rounding than TF32's.
cudnnMathType_t base_math(DType dtype) {
  return dtype == DType::Float32 && !allow_tf32() ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
}

std::string describe(ConvDirection d, DType dtype, const ConvShape& s) {
  const Conv2dParams& q = s.params;
  return std::string(direction_name(d)) + " (" + dtype_name(dtype) + ", x " +
         shape_str({s.batch, s.channels, s.height, s.width}) + ", weight " +
         shape_str({s.out_channels, s.params.groups > 0 ? s.channels / s.params.groups : 0, s.kernel_h, s.kernel_w}) +
         ", out " + shape_str({s.batch, s.out_channels, s.out_h, s.out_w}) + ", stride " +
         shape_str({q.stride_h, q.stride_w}) + ", padding " + shape_str({q.pad_h, q.pad_w}) + ", dilation " +
         shape_str({q.dilation_h, q.dilation_w}) + ", groups " + std::to_string(q.groups) + ")";
}

std::unique_ptr<ConvPlan> make_plan(ConvDirection d, DType dtype, const ConvShape& s, const ConvBuffers& buffers) {
  const cudnnDataType_t type = cudnn_data_type(dtype, direction_name(d));
  auto plan = std::make_unique<ConvPlan>();
  plan->x.set(type, s.batch, s.channels, s.height, s.width, "x");
  plan->w.set(type, s.out_channels, s.channels / s.params.groups, s.kernel_h, s.kernel_w);
  plan->y.set(type, s.batch, s.out_channels, s.out_h, s.out_w, "out");
  plan->conv.set(type, s.params);
  const cudnnMathType_t base = base_math(dtype);
  plan->conv.set_math_type(base);

  const cudnnHandle_t h = cudnn_handle();
  const size_t limit = settings().workspace_limit.load();
  std::vector<Candidate> candidates =
      settings().benchmark.load() ? timed_candidates(d, h, *plan, buffers, limit) : heuristic_candidates(d, h, *plan);
  // Behind cuDNN's ranking, every algorithm it did not rank, so that a configuration the
  // heuristics fail on (as they may for float64) still finds one that
  // cudnnGetConvolution*WorkspaceSize accepts. Their determinism is unknown: not with
  // MASKDET_CUDNN_DETERMINISTIC.
  if (!settings().deterministic.load()) {
    for (int a = 0; a < algo_count(d); ++a) {
      bool ranked = false;
      for (const Candidate& c : candidates) ranked = ranked || c.algo == a;
      if (!ranked) candidates.push_back({a, base});
    }
  }

  // A candidate runs under the math type cuDNN ranked it with, except that float32 without TF32
  // stays on FMA math whatever the ranking says.
  const auto math_for = [&](const Candidate& c) { return base == CUDNN_FMA_MATH ? base : c.math; };
  bool found = false;
  Candidate smallest{};
  size_t smallest_bytes = SIZE_MAX;
  for (const Candidate& c : candidates) {
    plan->conv.set_math_type(math_for(c));
    size_t bytes = 0;
    if (!workspace_size(d, h, *plan, c.algo, &bytes)) continue;
    if (bytes <= limit) {
      plan->algo = c.algo;
      plan->workspace_bytes = bytes;
      return plan;
    }
    if (bytes < smallest_bytes) {
      found = true;
      smallest = c;
      smallest_bytes = bytes;
    }
  }
  MASKDET_CHECK(found, "cuDNN offers no algorithm for ", describe(d, dtype, s),
                settings().deterministic.load() ? " among the deterministic ones (MASKDET_CUDNN_DETERMINISTIC=1)" : "");
  plan->conv.set_math_type(math_for(smallest));
  plan->algo = smallest.algo;
  plan->workspace_bytes = smallest_bytes;
  return plan;
}

using PlanKey = std::array<int64_t, 18>;

std::mutex g_plans_mutex;
// Never erased, so references handed out stay valid.
std::map<PlanKey, std::unique_ptr<ConvPlan>> g_plans;

}  // namespace

// ---- descriptors ----

TensorDescriptor::TensorDescriptor() { CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc_)); }
TensorDescriptor::~TensorDescriptor() { cudnnDestroyTensorDescriptor(desc_); }
void TensorDescriptor::set(cudnnDataType_t type, int64_t n, int64_t c, int64_t h, int64_t w, const char* what) {
  MASKDET_CHECK(n <= INT_MAX && c <= INT_MAX && h <= INT_MAX && w <= INT_MAX, "cuDNN: ", what, " of shape ",
                shape_str({n, c, h, w}), " has a size beyond cuDNN's int");
  CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc_, CUDNN_TENSOR_NCHW, type, static_cast<int>(n), static_cast<int>(c),
                                         static_cast<int>(h), static_cast<int>(w)));
}

FilterDescriptor::FilterDescriptor() { CUDNN_CHECK(cudnnCreateFilterDescriptor(&desc_)); }
FilterDescriptor::~FilterDescriptor() { cudnnDestroyFilterDescriptor(desc_); }
void FilterDescriptor::set(cudnnDataType_t type, int64_t out_channels, int64_t group_in, int64_t kh, int64_t kw) {
  CUDNN_CHECK(cudnnSetFilter4dDescriptor(desc_, type, CUDNN_TENSOR_NCHW, to_int(out_channels, "out channels"),
                                         to_int(group_in, "in channels per group"), to_int(kh, "kernel height"),
                                         to_int(kw, "kernel width")));
}

ConvolutionDescriptor::ConvolutionDescriptor() { CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&desc_)); }
ConvolutionDescriptor::~ConvolutionDescriptor() { cudnnDestroyConvolutionDescriptor(desc_); }
void ConvolutionDescriptor::set(cudnnDataType_t type, const Conv2dParams& p) {
  // CUDNN_CROSS_CORRELATION: the filter is not flipped, as in torch.nn.functional.conv2d.
  CUDNN_CHECK(cudnnSetConvolution2dDescriptor(desc_, to_int(p.pad_h, "pad_h"), to_int(p.pad_w, "pad_w"),
                                              to_int(p.stride_h, "stride_h"), to_int(p.stride_w, "stride_w"),
                                              to_int(p.dilation_h, "dilation_h"), to_int(p.dilation_w, "dilation_w"),
                                              CUDNN_CROSS_CORRELATION, type));
  CUDNN_CHECK(cudnnSetConvolutionGroupCount(desc_, to_int(p.groups, "groups")));
}
void ConvolutionDescriptor::set_math_type(cudnnMathType_t math) {
  CUDNN_CHECK(cudnnSetConvolutionMathType(desc_, math));
}

cudnnDataType_t cudnn_data_type(DType dtype, const char* kernel) {
  switch (dtype) {
    case DType::Float32: return CUDNN_DATA_FLOAT;
    case DType::Float64: return CUDNN_DATA_DOUBLE;
    default: MASKDET_FAIL(kernel, ": expected a float32 or float64 tensor, got ", dtype_name(dtype));
  }
}

// ---- plans ----

const ConvPlan& conv_plan(ConvDirection direction, DType dtype, const ConvShape& s, const ConvBuffers& buffers) {
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  const Conv2dParams& q = s.params;
  // The math mode is part of the key: flipping allow_tf32 must not reuse a TF32 plan.
  const PlanKey key{static_cast<int64_t>(direction), static_cast<int64_t>(dtype), device, allow_tf32() ? 1 : 0,
                    s.batch,       s.channels,  s.height,    s.width,    s.out_channels, s.kernel_h,
                    s.kernel_w,    q.stride_h,  q.stride_w,  q.pad_h,    q.pad_w,        q.dilation_h,
                    q.dilation_w,  q.groups};
  // out_h and out_w follow from the rest of the key.
  std::lock_guard<std::mutex> lock(g_plans_mutex);
  auto it = g_plans.find(key);
  if (it == g_plans.end()) it = g_plans.emplace(key, make_plan(direction, dtype, s, buffers)).first;
  return *it->second;
}

void set_cudnn_benchmark(bool on) { settings().benchmark.store(on); }
void set_cudnn_deterministic(bool on) { settings().deterministic.store(on); }
void set_cudnn_workspace_limit(size_t bytes) { settings().workspace_limit.store(bytes); }

}  // namespace maskdet::cuda
