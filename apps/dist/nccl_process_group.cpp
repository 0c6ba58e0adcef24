// ProcessGroup on NCCL (nccl_process_group.h). The communicator is non-blocking
// (ncclConfig_t::blocking = 0) so that a peer that died or hangs ends in a timeout this side
// can report, rather than a call that never returns.
#include "apps/dist/nccl_process_group.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <thread>

#include "cuda/runtime.h"

// NCCL_CHECK(call): throws DistError naming the call, file:line and NCCL's message.
#define NCCL_CHECK(call)                                                                              \
  do {                                                                                                \
    ncclResult_t maskdet_nccl_status = (call);                                                        \
    if (maskdet_nccl_status != ncclSuccess && maskdet_nccl_status != ncclInProgress)                   \
      throw ::maskdet::dist::DistError(std::string("NCCL call failed: ") + #call + " (" + __FILE__ + ":" + \
                                       std::to_string(__LINE__) + "): " +                              \
                                       ncclGetErrorString(maskdet_nccl_status));                       \
  } while (0)

namespace maskdet::dist {

namespace {

template <class T>
constexpr ncclDataType_t nccl_type();
template <>
constexpr ncclDataType_t nccl_type<float>() { return ncclFloat32; }
template <>
constexpr ncclDataType_t nccl_type<double>() { return ncclFloat64; }

class NcclProcessGroup : public ProcessGroup {
 public:
  NcclProcessGroup(ProcessGroup& bootstrap, std::chrono::milliseconds timeout) : bootstrap_(bootstrap), timeout_(timeout) {
    init(bootstrap);
  }
  // new_group: a communicator of its own, bootstrapped through a CPU group of its own.
  NcclProcessGroup(std::unique_ptr<ProcessGroup> own_bootstrap, std::chrono::milliseconds timeout)
      : own_bootstrap_(std::move(own_bootstrap)), bootstrap_(*own_bootstrap_), timeout_(timeout) {
    init(bootstrap_);
  }

  void init(ProcessGroup& bootstrap) {
    ncclUniqueId id{};
    if (bootstrap.rank() == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    bootstrap.broadcast(&id, sizeof id, 0, "the NCCL unique id");
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    NCCL_CHECK(ncclCommInitRankConfig(&comm_, bootstrap.world_size(), id, bootstrap.rank(), &config));
    wait_for("creating the NCCL communicator", /*stream_too=*/false);
  }

  ~NcclProcessGroup() override {
    if (comm_) {
      if (aborted_) {
        ncclCommAbort(comm_);
      } else {
        ncclCommFinalize(comm_);
        ncclCommDestroy(comm_);
      }
    }
    if (stream_) cudaStreamDestroy(stream_);
  }

  int rank() const override { return bootstrap_.rank(); }
  int world_size() const override { return bootstrap_.world_size(); }
  std::string backend() const override { return "nccl"; }

  void all_reduce_sum(float* data, size_t count, const std::string& what) override { reduce(data, count, what); }
  void all_reduce_sum(double* data, size_t count, const std::string& what) override { reduce(data, count, what); }

  void broadcast(void* data, size_t bytes, int root, const std::string& what) override {
    NCCL_CHECK(ncclBroadcast(data, data, bytes, ncclUint8, root, comm_, stream_));
    wait_for("broadcast of " + what, /*stream_too=*/true);
  }
  void barrier(const std::string& what) override { bootstrap_.barrier(what); }
  void all_gather(const void* data, size_t bytes, void* out, const std::string& what) override {
    bootstrap_.all_gather(data, bytes, out, what);
  }
  std::unique_ptr<ProcessGroup> new_group(const std::string& name) override {
    return std::make_unique<NcclProcessGroup>(bootstrap_.new_group(name), timeout_);
  }

 private:
  template <class T>
  void reduce(T* data, size_t count, const std::string& what) {
    if (count == 0) return;
    NCCL_CHECK(ncclAllReduce(data, data, count, nccl_type<T>(), ncclSum, comm_, stream_));
    wait_for("all-reduce of " + what, /*stream_too=*/true);
  }

  // Polls the communicator (and the stream) until the operation is done, it failed, or the
  // timeout passed; the last two abort the communicator.
  void wait_for(const std::string& operation, bool stream_too) {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (;;) {
      ncclResult_t state = ncclSuccess;
      NCCL_CHECK(ncclCommGetAsyncError(comm_, &state));
      if (state != ncclSuccess && state != ncclInProgress) {
        aborted_ = true;
        throw DistError("rank " + std::to_string(rank()) + ": NCCL " + operation + " failed: " + ncclGetErrorString(state));
      }
      if (state == ncclSuccess) {
        if (!stream_too) return;
        const cudaError_t done = cudaStreamQuery(stream_);
        if (done == cudaSuccess) return;
        if (done != cudaErrorNotReady) CUDA_CHECK(done);
      }
      if (std::chrono::steady_clock::now() > deadline) {
        aborted_ = true;
        throw DistError("rank " + std::to_string(rank()) + " of " + std::to_string(world_size()) + ": NCCL " + operation +
                        " timed out after " + std::to_string(timeout_.count() / 1000) +
                        " s (--dist-timeout): a rank stopped or hung");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  std::unique_ptr<ProcessGroup> own_bootstrap_;  // new_group's only
  ProcessGroup& bootstrap_;
  std::chrono::milliseconds timeout_;
  cudaStream_t stream_ = nullptr;
  ncclComm_t comm_ = nullptr;
  bool aborted_ = false;
};

}  // namespace

std::unique_ptr<ProcessGroup> make_nccl_process_group(ProcessGroup& bootstrap, std::chrono::milliseconds timeout) {
  return std::make_unique<NcclProcessGroup>(bootstrap, timeout);
}

}  // namespace maskdet::dist
