// What keeps the replicas of a data-parallel run one model: rank 0's parameters (and optimiser
// state) copied to every rank at the start, each step's gradients summed over the ranks in
// buckets of about 25 MB (as PyTorch's DDP), started during the backward pass, and a checksum
// all-gather that finds replicas that drifted apart.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "apps/dist/process_group.h"
#include "autograd/engine.h"
#include "autograd/replica_sum.h"
#include "tensor/tensor.h"

namespace maskdet::dist {

// Rank 0's values of `tensors` (any dtype and device) on every rank, in place.
void broadcast_tensors(ProcessGroup& group, const std::vector<Tensor>& tensors, const std::string& what);

// A hash of the tensors' shapes and bytes: equal replicas give equal checksums.
uint64_t replica_checksum(const std::vector<Tensor>& tensors);
// Throws DistError naming the ranks whose checksum differs from rank 0's.
void check_replicas_agree(ProcessGroup& group, const std::vector<Tensor>& tensors, const std::string& what);

// Sync batch norm's sums (autograd/replica_sum.h) over the ranks of a group of their own
// (ProcessGroup::new_group): backward's sums run on the autograd thread while the gradient
// buckets' thread all-reduces on the run's group, and one group's collectives must not interleave.
class GroupReplicaSum : public ReplicaSum {
 public:
  explicit GroupReplicaSum(std::unique_ptr<ProcessGroup> group) : group_(std::move(group)) {}
  void sum(std::vector<double>& values, const std::string& what) override {
    group_->all_reduce_sum(values.data(), values.size(), what);
  }
  double loss_weight() const override { return loss_weight_; }
  // Before each step: this rank's share of the global batch (the weight its gradients carry).
  void set_loss_weight(double weight) { loss_weight_ = weight; }

 private:
  std::unique_ptr<ProcessGroup> group_;
  double loss_weight_ = 1;
};

// Gradients summed over the ranks in buckets of about bucket_bytes. The buckets hold the
// parameters in reverse order, the order backward finishes them, and each is all-reduced on a
// communication thread as soon as all its gradients are final, while backward goes on with the
// rest (autograd::GradientReadyScope); every rank starts the buckets in the same order.
class GradientBuckets {
 public:
  static constexpr size_t kDefaultBucketBytes = size_t{25} << 20;

  // params: float32, in the same order on every rank.
  explicit GradientBuckets(std::vector<Tensor> params, size_t bucket_bytes = kDefaultBucketBytes);
  ~GradientBuckets();
  GradientBuckets(const GradientBuckets&) = delete;
  GradientBuckets& operator=(const GradientBuckets&) = delete;

  // Overlapped with backward: begin() before it, with the returned scope alive during it, then
  // finish(), which replaces every parameter's gradient by the sum over ranks of weight x
  // gradient (a missing gradient counts as zeros).
  [[nodiscard]] std::unique_ptr<autograd::GradientReadyScope> begin(ProcessGroup& group, float weight);
  void finish();
  // The same after a backward that has finished: begin() and finish() at once.
  void reduce(ProcessGroup& group, float weight);

  size_t bucket_count() const { return buckets_.size(); }
  // Of the last step: seconds the communication thread spent in all-reduces, and seconds
  // finish() took after backward (waiting for the last buckets, copying the sums back).
  double all_reduce_seconds() const { return all_reduce_seconds_; }
  double exposed_seconds() const { return exposed_seconds_; }

 private:
  struct Bucket {
    std::vector<size_t> params;   // indices into params_
    std::vector<size_t> offsets;  // of each in `values`
    std::vector<float> values;    // (the bucket's elements)
    size_t waiting = 0;           // gradients not yet copied in this step
  };

  void gradient_ready(size_t param);
  void communicate();

  std::vector<Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;  // per parameter
  std::vector<bool> ready_;        // per parameter, this step
  std::map<const TensorImpl*, size_t> index_of_;
  ProcessGroup* group_ = nullptr;
  float weight_ = 1;
  size_t next_to_start_ = 0;  // buckets go to the communication thread in index order

  // Shared with the communication thread under mutex_.
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t started_ = 0, done_ = 0;  // buckets handed over, and reduced, this step
  std::exception_ptr error_;
  bool stopping_ = false;
  double all_reduce_seconds_ = 0, exposed_seconds_ = 0;
  std::thread thread_;
};

}  // namespace maskdet::dist
