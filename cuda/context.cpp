// The per-device CUDA context of cuda/context.h: one stream, a cuDNN and a cuBLAS handle bound
// to it, a growing workspace, and the process-wide TF32 switch. Follows the CUDA runtime,
// cuDNN 9 and cuBLAS documentation on streams and handles (cudaStreamCreate,
// cudnnSetStream, cublasSetStream).
//
// One context per device: its stream is created on the device's first use, each library handle
// on its own first use, all under mutexes. Contexts are never destroyed: handles destroyed from
// static destructors may outlive the CUDA driver at process exit (PyTorch leaks its handles for
// the same reason), and the OS reclaims everything anyway.
#include "cuda/context.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace maskdet::cuda {
namespace {

struct DeviceContext {
  cudaStream_t stream = nullptr;
  // Guards the members below, created or grown after the stream.
  std::mutex mutex;
  // The library handles are made on first use, so a program (or a cuDNN that fails to load)
  // that never convolves never pays for cuDNN.
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};

std::mutex g_contexts_mutex;
// Indexed by device; entries are never freed (see the file comment).
std::vector<DeviceContext*> g_contexts;
std::atomic<bool> g_allow_tf32{true};

int current_device() {
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

DeviceContext& context_for(int device) {
  std::lock_guard<std::mutex> lock(g_contexts_mutex);
  if (static_cast<size_t>(device) >= g_contexts.size()) g_contexts.resize(device + 1, nullptr);
  if (g_contexts[device]) return *g_contexts[device];
  auto ctx = std::make_unique<DeviceContext>();
  // A blocking stream (cudaStreamCreate, not cudaStreamNonBlocking): work issued by anyone on
  // the legacy default stream (a stray cudaMemcpy, a library call without a stream) stays
  // ordered with ours.
  CUDA_CHECK(cudaStreamCreate(&ctx->stream));
  g_contexts[device] = ctx.release();
  return *g_contexts[device];
}

DeviceContext& current_context() { return context_for(current_device()); }

}  // namespace

cudaStream_t current_stream() { return current_context().stream; }

cudnnHandle_t cudnn_handle() {
  DeviceContext& ctx = current_context();
  std::lock_guard<std::mutex> lock(ctx.mutex);
  if (!ctx.cudnn) {
    cudnnHandle_t handle = nullptr;
    CUDNN_CHECK(cudnnCreate(&handle));
    CUDNN_CHECK(cudnnSetStream(handle, ctx.stream));
    ctx.cudnn = handle;
  }
  return ctx.cudnn;
}

cublasHandle_t cublas_handle() {
  DeviceContext& ctx = current_context();
  std::lock_guard<std::mutex> lock(ctx.mutex);
  if (!ctx.cublas) {
    cublasHandle_t handle = nullptr;
    CUBLAS_CHECK(cublasCreate(&handle));
    // cublasSetStream also puts the handle back on cuBLAS's default workspace pool, which is
    // allocated once per handle and stream, so repeated GEMMs make no new allocations.
    CUBLAS_CHECK(cublasSetStream(handle, ctx.stream));
    // alpha and beta are host scalars in every maskdet call.
    CUBLAS_CHECK(cublasSetPointerMode(handle, CUBLAS_POINTER_MODE_HOST));
    ctx.cublas = handle;
  }
  return ctx.cublas;
}

void* workspace(size_t nbytes) {
  const int device = current_device();
  DeviceContext& ctx = context_for(device);
  std::lock_guard<std::mutex> lock(ctx.mutex);
  if (nbytes > ctx.workspace_bytes) {
    // The old buffer goes back to the caching allocator, which hands blocks out again only in
    // stream order on the one stream, so kernels still queued on it finish before reuse.
    if (ctx.workspace) device_free(ctx.workspace, device);
    ctx.workspace = nullptr;
    ctx.workspace_bytes = 0;
    // Grow by at least half again so a slowly rising request does not reallocate every call.
    const size_t grown = nbytes + nbytes / 2;
    ctx.workspace = device_malloc(grown, device);
    ctx.workspace_bytes = grown;
  }
  return ctx.workspace;
}

bool allow_tf32() { return g_allow_tf32.load(std::memory_order_relaxed); }
void set_allow_tf32(bool allow) { g_allow_tf32.store(allow, std::memory_order_relaxed); }

void synchronize() { CUDA_CHECK(cudaStreamSynchronize(current_stream())); }

}  // namespace maskdet::cuda
