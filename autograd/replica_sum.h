// ReplicaSum: what an op that spans the replicas of a data-parallel run needs from it (sync
// batch norm, autograd/ops/batch_norm.cpp): a sum over the replicas of a few host values,
// and how much this replica's loss counts in the run's loss. The core knows no process group:
// the data-parallel layer (apps/dist/data_parallel.h) implements this over one.
#pragma once
#include <string>
#include <vector>

namespace maskdet {

class ReplicaSum {
 public:
  virtual ~ReplicaSum() = default;
  // In place on every replica: each element becomes its sum over the replicas. Every replica
  // calls it in the same order with the same number of values; `what` names them in an error.
  virtual void sum(std::vector<double>& values, const std::string& what) = 0;
  // The factor this replica's loss carries in the loss of the whole run (its share of the
  // global batch, or 1): the gradient backward brings to an op is that of this replica's own
  // loss, while the statistics the op shares belong to the run's.
  virtual double loss_weight() const = 0;
};

}  // namespace maskdet
