// Sync batch norm (autograd/ops/batch_norm.cpp, BatchNorm2d::synchronise_with) with
// threads of this process as the replicas: shards of one batch held by several replicas, each
// with its loss weighted by its share, give batch norm's output, running statistics and
// gradients over the whole batch (float64, to rounding); one replica is batch_norm itself; and
// convert_sync_batch_norm reaches every BatchNorm2d of a model. The gradcheck of the op itself
// is tests/gradcheck/norm_pool_index_gradcheck_test.cpp.
#include <barrier>
#include <functional>
#include <future>

#include "autograd/node.h"
#include "layers/batch_norm.h"
#include "layers/frozen_batch_norm.h"
#include "layers/sequential.h"
#include "test_util.h"

namespace maskdet::nn {
namespace {
using maskdet::test::randn64;
using maskdet::test::tensors_near;

// Replicas as threads: each sum waits for every replica's values and adds them in replica
// order, so all replicas get the same bits, as an all-reduce gives them.
class ThreadReplicas {
 public:
  explicit ThreadReplicas(int count) : slots_(static_cast<size_t>(count)), barrier_(count) {}

  class Member : public ReplicaSum {
   public:
    Member(ThreadReplicas& all, int index, double loss_weight) : all_(all), index_(index), loss_weight_(loss_weight) {}
    void sum(std::vector<double>& values, const std::string&) override {
      all_.slots_[static_cast<size_t>(index_)] = values;
      all_.barrier_.arrive_and_wait();
      std::vector<double> total(values.size(), 0.0);
      for (const auto& slot : all_.slots_)
        for (size_t i = 0; i < total.size(); ++i) total[i] += slot.at(i);
      all_.barrier_.arrive_and_wait();  // nobody writes a slot again before all have read them
      values = total;
      ++sums;
    }
    double loss_weight() const override { return loss_weight_; }
    int sums = 0;

   private:
    ThreadReplicas& all_;
    int index_;
    double loss_weight_;
  };

  // Runs body(replica) on one thread per replica; rethrows the first failure.
  void run(const std::function<void(int)>& body) {
    std::vector<std::future<void>> threads;
    for (int r = 0; r < static_cast<int>(slots_.size()); ++r) threads.push_back(std::async(std::launch::async, body, r));
    for (auto& t : threads) t.get();
  }

 private:
  std::vector<std::vector<double>> slots_;
  std::barrier<> barrier_;
};

// The whole batch's loss: the mean over images of sum(y * r) per image; a replica holding
// `images` of the `batch` images has the mean over its own, weighted images / batch in the run.
Tensor image_mean_loss(const Tensor& y, const Tensor& r) { return sum(y * r) * (1.0 / static_cast<double>(y.size(0))); }

struct Reference {
  Tensor out, running_mean, running_var, grad_x, grad_weight, grad_bias;
};

Reference single_batch(const Tensor& x, const Tensor& r, const Tensor& w, const Tensor& b) {
  Reference ref;
  const Tensor xs = x.detach().clone().set_requires_grad(true);
  const Tensor ws = w.detach().clone().set_requires_grad(true), bs = b.detach().clone().set_requires_grad(true);
  ref.running_mean = full({x.size(1)}, 0.5, {DType::Float64});
  ref.running_var = full({x.size(1)}, 2.0, {DType::Float64});
  ref.out = batch_norm(xs, ws, bs, ref.running_mean, ref.running_var, /*training=*/true, 0.1, 1e-5);
  image_mean_loss(ref.out, r).backward();
  ref.grad_x = xs.grad();
  ref.grad_weight = ws.grad();
  ref.grad_bias = bs.grad();
  ref.out = ref.out.detach();
  return ref;
}

TEST(SyncBatchNorm, ShardsOnThreeReplicasGiveTheWholeBatchsNormAndGradients) {
  // Shards of 3, 1 and 2 images of a batch of 6: unequal, so the loss weights matter. The input
  // has a large mean, which a one-pass variance would lose to cancellation.
  const Tensor x = randn64({6, 4, 3, 5}, 1, false) * 3.0 + 100.0;
  const Tensor r = randn64({6, 4, 3, 5}, 2, false);
  const Tensor w = randn64({4}, 3, false), b = randn64({4}, 4, false);
  const Reference ref = single_batch(x, r, w, b);

  const std::vector<std::pair<int64_t, int64_t>> shards = {{0, 3}, {3, 4}, {4, 6}};
  ThreadReplicas replicas(3);
  std::vector<Tensor> outs(3), grad_x(3), grad_w(3), grad_b(3), running_mean(3), running_var(3);
  std::vector<int> sums(3);
  replicas.run([&](int k) {
    const auto [begin, end] = shards[static_cast<size_t>(k)];
    const double loss_weight = static_cast<double>(end - begin) / 6.0;
    auto member = std::make_shared<ThreadReplicas::Member>(replicas, k, loss_weight);
    const Tensor xs = x.slice(0, begin, end).clone().set_requires_grad(true);
    const Tensor ws = w.clone().set_requires_grad(true), bs = b.clone().set_requires_grad(true);
    running_mean[k] = full({4}, 0.5, {DType::Float64});
    running_var[k] = full({4}, 2.0, {DType::Float64});
    const Tensor y = sync_batch_norm(xs, ws, bs, running_mean[k], running_var[k], member, 0.1, 1e-5);
    image_mean_loss(y, r.slice(0, begin, end)).backward();
    outs[k] = y.detach();
    // Gradients are of this replica's own loss; data parallelism weighs them by its share.
    grad_x[k] = xs.grad() * loss_weight;
    grad_w[k] = ws.grad() * loss_weight;
    grad_b[k] = bs.grad() * loss_weight;
    sums[k] = member->sums;
  });
  EXPECT_EQ(sums, (std::vector<int>{3, 3, 3}));  // two in forward, one in backward, on each
  EXPECT_TRUE(tensors_near(cat(outs, 0), ref.out, 1e-10));
  EXPECT_TRUE(tensors_near(cat(grad_x, 0), ref.grad_x, 1e-12));
  EXPECT_TRUE(tensors_near(grad_w[0] + grad_w[1] + grad_w[2], ref.grad_weight, 1e-12));
  EXPECT_TRUE(tensors_near(grad_b[0] + grad_b[1] + grad_b[2], ref.grad_bias, 1e-12));
  for (int k = 0; k < 3; ++k) {
    EXPECT_TRUE(tensors_near(running_mean[k], ref.running_mean, 1e-10)) << "replica " << k;
    EXPECT_TRUE(tensors_near(running_var[k], ref.running_var, 1e-9)) << "replica " << k;
  }
  // The test can fail: a replica's own statistics are not the batch's.
  const Tensor own = batch_norm(x.slice(0, 3, 4), w, b, Tensor(), Tensor(), true);
  EXPECT_FALSE(tensors_near(own, ref.out.slice(0, 3, 4), 1e-3));
}

// A lone replica whose sums change nothing: batch_norm's training mode, float32, (N, C) too.
class LoneReplica : public ReplicaSum {
 public:
  void sum(std::vector<double>&, const std::string&) override {}
  double loss_weight() const override { return 1; }
};

TEST(SyncBatchNorm, OneReplicaIsBatchNorm) {
  Generator gen(7);
  for (const Shape& shape : {Shape{3, 5, 4, 4}, Shape{8, 6}}) {
    const int64_t c = shape[1];
    const Tensor x = randn(shape, {}, &gen, 1.0, 2.0), r = randn(shape, {}, &gen);
    const Tensor w = randn({c}, {}, &gen), b = randn({c}, {}, &gen);
    Tensor grads[2][3], outs[2], running[2][2];
    for (int k = 0; k < 2; ++k) {
      const Tensor xs = x.clone().set_requires_grad(true);
      const Tensor ws = w.clone().set_requires_grad(true), bs = b.clone().set_requires_grad(true);
      running[k][0] = zeros({c});
      running[k][1] = ones({c});
      outs[k] = k == 0 ? batch_norm(xs, ws, bs, running[k][0], running[k][1], true)
                       : sync_batch_norm(xs, ws, bs, running[k][0], running[k][1], std::make_shared<LoneReplica>());
      sum(outs[k] * r).backward();
      grads[k][0] = xs.grad();
      grads[k][1] = ws.grad();
      grads[k][2] = bs.grad();
    }
    EXPECT_TRUE(tensors_near(outs[1].detach(), outs[0].detach(), 1e-5)) << shape_str(shape);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(tensors_near(grads[1][i], grads[0][i], 1e-4, 1e-4)) << shape_str(shape) << " " << i;
    for (int i = 0; i < 2; ++i) EXPECT_TRUE(tensors_near(running[1][i], running[0][i], 1e-5)) << shape_str(shape);
  }
}

TEST(SyncBatchNorm, ConvertReachesEveryBatchNormAndOnlyInTraining) {
  auto model = std::make_shared<Sequential>();
  const auto first = model->push_back(std::make_shared<BatchNorm2d>(3));
  auto inner = std::make_shared<Sequential>();
  inner->push_back(std::make_shared<BatchNorm2d>(3));
  inner->push_back(std::make_shared<FrozenBatchNorm2d>(3));
  model->push_back(inner);
  const auto replicas = std::make_shared<LoneReplica>();
  EXPECT_EQ(convert_sync_batch_norm(*model, replicas), 2);
  int synchronised = 0;
  for (const auto& [name, module] : model->named_modules())
    if (const auto* bn = dynamic_cast<const BatchNorm2d*>(module.get())) synchronised += bn->synchronised() ? 1 : 0;
  EXPECT_EQ(synchronised, 2);
  // The state dict keeps batch norm's names (checkpoints load either way).
  bool has_running_mean = false;
  for (const auto& [name, tensor] : model->state_dict()) has_running_mean |= name == "0.running_mean";
  EXPECT_TRUE(has_running_mean);
  // Training goes through the synchronised op, eval through the running statistics.
  Generator gen(3);
  const Tensor x = randn({2, 3, 4, 4}, {}, &gen);
  EXPECT_EQ(first->forward(x).grad_fn()->name(), "SyncBatchNormBackward");
  model->eval();
  EXPECT_EQ(first->forward(x).grad_fn()->name(), "BatchNormEvalBackward");
  model->train();
  EXPECT_EQ(convert_sync_batch_norm(*model, nullptr), 2);
  EXPECT_EQ(first->forward(x).grad_fn()->name(), "BatchNormBackward");
}

}  // namespace
}  // namespace maskdet::nn
