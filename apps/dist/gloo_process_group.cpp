// ProcessGroup on Gloo (gloo_process_group.h).
#include "apps/dist/gloo_process_group.h"

#include <gloo/allgather.h>
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/common/error.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/transport/tcp/device.h>

#include <cstdlib>

#include "apps/dist/tcp_store.h"

namespace maskdet::dist {

namespace {

// What the groups of one world share: rank 0's store server, this rank's store client and its
// TCP device. Each group (the world's first, and every new_group) has its own Gloo context, so
// its own connections between every pair of ranks.
struct GlooWorld {
  std::unique_ptr<TcpStoreServer> server;  // rank 0 only; outlives the rendezvous for late readers
  std::unique_ptr<TcpStore> store;
  std::shared_ptr<gloo::transport::Device> device;
  std::string master;  // "addr:port", for errors
};

class GlooProcessGroup : public ProcessGroup {
 public:
  GlooProcessGroup(const LaunchEnvironment& env, std::chrono::milliseconds timeout)
      : rank_(env.rank), world_size_(env.world_size), timeout_(timeout), world_(std::make_shared<GlooWorld>()) {
    world_->master = env.master_addr + ":" + std::to_string(env.master_port);
    if (rank_ == 0) world_->server = std::make_unique<TcpStoreServer>(env.master_addr, env.master_port);
    world_->store = std::make_unique<TcpStore>(env.master_addr, env.master_port, rank_, timeout);
    gloo::transport::tcp::attr attr;
    if (const char* iface = std::getenv("GLOO_SOCKET_IFNAME"); iface && *iface)
      attr.iface = iface;
    else
      attr.hostname = local_address_towards(env.master_addr, env.master_port);
    connect("maskdet", [&] { world_->device = gloo::transport::tcp::CreateDevice(attr); });
  }

  // Another group of the same ranks over the same store and device (new_group).
  GlooProcessGroup(const GlooProcessGroup& parent, const std::string& name)
      : rank_(parent.rank_), world_size_(parent.world_size_), timeout_(parent.timeout_), world_(parent.world_) {
    connect("maskdet/" + name, [] {});
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }
  std::string backend() const override { return "gloo"; }
  std::shared_ptr<gloo::Context> context() const { return context_; }

  std::unique_ptr<ProcessGroup> new_group(const std::string& name) override {
    return std::make_unique<GlooProcessGroup>(*this, name);
  }

  void all_reduce_sum(float* data, size_t count, const std::string& what) override { reduce(data, count, what); }
  void all_reduce_sum(double* data, size_t count, const std::string& what) override { reduce(data, count, what); }

  void broadcast(void* data, size_t bytes, int root, const std::string& what) override {
    guarded("broadcast of " + what, [&] {
      gloo::BroadcastOptions options(context_);
      options.setOutput(static_cast<char*>(data), bytes);
      options.setRoot(root);
      options.setTimeout(timeout_);
      gloo::broadcast(options);
    });
  }

  void barrier(const std::string& what) override {
    guarded("barrier (" + what + ")", [&] {
      gloo::BarrierOptions options(context_);
      options.setTimeout(timeout_);
      gloo::barrier(options);
    });
  }

  void all_gather(const void* data, size_t bytes, void* out, const std::string& what) override {
    guarded("all-gather of " + what, [&] {
      gloo::AllgatherOptions options(context_);
      options.setInput(const_cast<char*>(static_cast<const char*>(data)), bytes);
      options.setOutput(static_cast<char*>(out), bytes * static_cast<size_t>(world_size_));
      options.setTimeout(timeout_);
      gloo::allgather(options);
    });
  }

 private:
  template <class T>
  void reduce(T* data, size_t count, const std::string& what) {
    if (count == 0) return;
    guarded("all-reduce of " + what, [&] {
      gloo::AllreduceOptions options(context_);
      options.setOutput(data, count);
      options.setReduceFunction(static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<T>));
      options.setTimeout(timeout_);
      gloo::allreduce(options);
    });
  }

  // Gloo reports a timeout or a peer that went away as gloo::IoException (or its base).
  template <class F>
  void guarded(const std::string& operation, F&& run) {
    try {
      run();
    } catch (const gloo::Exception& e) {
      throw DistError("rank " + std::to_string(rank_) + " of " + std::to_string(world_size_) + ": " + operation +
                      " failed (timeout " + std::to_string(timeout_.count() / 1000) +
                      " s, --dist-timeout): a rank stopped, hung or lost its connection: " + e.what());
    }
  }

  // Meets the other ranks under `prefix` in the store: a Gloo context connected to each of them.
  template <class F>
  void connect(const std::string& prefix, F&& before) {
    try {
      before();
      auto context = std::make_shared<gloo::rendezvous::Context>(rank_, world_size_);
      context->setTimeout(timeout_);
      gloo::rendezvous::PrefixStore prefixed(prefix, *world_->store);
      context->connectFullMesh(prefixed, world_->device);
      context_ = context;
    } catch (const DistError&) {
      throw;
    } catch (const std::exception& e) {
      throw DistError("rank " + std::to_string(rank_) + " of " + std::to_string(world_size_) +
                      ": rendezvous failed (connecting to the other ranks through rank 0 at " + world_->master +
                      (prefix == "maskdet" ? "" : ", group '" + prefix.substr(8) + "'") + "): " + e.what());
    }
  }

  int rank_, world_size_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<GlooWorld> world_;
  std::shared_ptr<gloo::Context> context_;
};

}  // namespace

std::unique_ptr<ProcessGroup> make_gloo_process_group(const LaunchEnvironment& env, std::chrono::milliseconds timeout) {
  return std::make_unique<GlooProcessGroup>(env, timeout);
}

std::shared_ptr<gloo::Context> gloo_context_of(ProcessGroup& group) {
  auto* gloo_group = dynamic_cast<GlooProcessGroup*>(&group);
  return gloo_group ? gloo_group->context() : nullptr;
}

}  // namespace maskdet::dist
