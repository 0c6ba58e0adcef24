// What keeps the replicas of a data-parallel run one model: rank 0's parameters (and optimiser
// state) copied to every rank at the start, each step's gradients summed over the ranks in
// buckets of about 25 MB (as PyTorch's DDP), and a checksum all-gather that finds replicas that
// drifted apart. The buckets are reduced after the backward pass has finished, not overlapped
// with it: the autograd engine has no per-parameter "gradient ready" hook yet.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "apps/dist/process_group.h"
#include "tensor/tensor.h"

namespace maskdet::dist {

// Rank 0's values of `tensors` (any dtype and device) on every rank, in place.
void broadcast_tensors(ProcessGroup& group, const std::vector<Tensor>& tensors, const std::string& what);

// A hash of the tensors' shapes and bytes: equal replicas give equal checksums.
uint64_t replica_checksum(const std::vector<Tensor>& tensors);
// Throws DistError naming the ranks whose checksum differs from rank 0's.
void check_replicas_agree(ProcessGroup& group, const std::vector<Tensor>& tensors, const std::string& what);

class GradientBuckets {
 public:
  static constexpr size_t kDefaultBucketBytes = size_t{25} << 20;

  // params: float32, in the same order on every rank.
  explicit GradientBuckets(std::vector<Tensor> params, size_t bucket_bytes = kDefaultBucketBytes);

  // Replaces every parameter's gradient by the sum over ranks of weight x gradient (a missing
  // gradient counts as zeros). Returns the seconds spent, copies and all-reduces together.
  double reduce(ProcessGroup& group, float weight);
  size_t bucket_count() const { return buckets_.size(); }

 private:
  std::vector<Tensor> params_;
  std::vector<std::vector<size_t>> buckets_;  // indices into params_
  std::vector<float> buffer_;                 // (largest bucket's elements)
};

}  // namespace maskdet::dist
