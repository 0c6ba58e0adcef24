// ProcessGroup: the collectives data-parallel training needs from the processes of one run
// (its "world"), in the spirit of torch.distributed: each process has a rank in [0, world size),
// and every rank calls the same collectives in the same order. Backends: Gloo on the CPU over
// TCP (gloo_process_group.h), NCCL on CUDA buffers bootstrapped through Gloo
// (nccl_process_group.h), and a world of one that needs neither (make_single_process_group).
// A collective that times out or loses a peer throws DistError naming this rank and the
// operation: the run cannot go on, since the other ranks' state is unknown.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "tensor/error.h"

namespace maskdet::dist {

class DistError : public Error {
 public:
  using Error::Error;
};

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual std::string backend() const = 0;

  // In place on every rank: each element becomes the sum over ranks. `what` names the buffer in
  // an error ("gradient bucket 2").
  virtual void all_reduce_sum(float* data, size_t count, const std::string& what) = 0;
  virtual void all_reduce_sum(double* data, size_t count, const std::string& what) = 0;
  // Rank `root`'s bytes replace every other rank's.
  virtual void broadcast(void* data, size_t bytes, int root, const std::string& what) = 0;
  virtual void barrier(const std::string& what) = 0;
  // out: world_size * bytes, rank r's `bytes` at r * bytes.
  virtual void all_gather(const void* data, size_t bytes, void* out, const std::string& what) = 0;

  // A group of the same ranks with its own connections, as torch.distributed.new_group: the
  // collectives of two groups may run at once from two threads (the gradient buckets' thread
  // and backward's sync batch norm), which one group's ordered collectives must not. Every rank
  // calls it in the same order with the same name; the new group may not outlive this one.
  virtual std::unique_ptr<ProcessGroup> new_group(const std::string& name) = 0;

  // The sum divided by the world size.
  template <class T>
  void all_reduce_average(T* data, size_t count, const std::string& what) {
    all_reduce_sum(data, count, what);
    for (size_t i = 0; i < count; ++i) data[i] /= static_cast<T>(world_size());
  }
  // One small value from every rank, in rank order.
  template <class T>
  std::vector<T> all_gather(const T& value, const std::string& what) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::vector<T> values(static_cast<size_t>(world_size()));
    all_gather(&value, sizeof(T), values.data(), what);
    return values;
  }

  bool is_leader() const { return rank() == 0; }
};

// A world of one: every collective returns at once with the data as it is.
std::unique_ptr<ProcessGroup> make_single_process_group();

}  // namespace maskdet::dist
