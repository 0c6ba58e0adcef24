// The Gloo process group with threads of one process as its ranks (each its own TcpStore
// client, rank 0 serving it on a free loopback port): the collectives' results, the gradient
// buckets' weighted sum, the replica checksum, and the timeouts of a collective a rank skips
// and of a rendezvous a rank never joins. Also the launchers' environments and batch shards.
#include <gtest/gtest.h>

#include <cstdlib>
#include <numeric>
#include <thread>

#include "apps/data/batch_shard.h"
#include "apps/dist/data_parallel.h"
#include "apps/dist/launch_environment.h"
#include "apps/dist/tcp_store.h"
#include "dist/thread_ranks.h"
#include "tensor/creation.h"

namespace maskdet::dist {
namespace {

using namespace std::chrono_literals;

using dist_test::run_ranks;

TEST(GlooProcessGroup, CollectivesCombineEveryRanksValues) {
  run_ranks(3, 30s, [](ProcessGroup& group) {
    EXPECT_EQ(group.world_size(), 3);
    EXPECT_EQ(group.backend(), "gloo");
    const int r = group.rank();
    std::vector<float> values = {1.0f + r, 10.0f * r, -0.5f};
    group.all_reduce_sum(values.data(), values.size(), "test floats");
    EXPECT_EQ(values, (std::vector<float>{6, 30, -1.5f}));
    std::vector<double> averaged = {static_cast<double>(r)};
    group.all_reduce_average(averaged.data(), 1, "test doubles");
    EXPECT_DOUBLE_EQ(averaged[0], 1.0);
    std::vector<int> shared = {r == 0 ? 42 : -1, r == 0 ? 7 : -1};
    group.broadcast(shared.data(), sizeof(int) * shared.size(), 0, "test ints");
    EXPECT_EQ(shared, (std::vector<int>{42, 7}));
    EXPECT_EQ(group.all_gather(static_cast<int64_t>(100 + r), "test ranks"), (std::vector<int64_t>{100, 101, 102}));
    group.barrier("test");
  });
}

TEST(GlooProcessGroup, GradientBucketsSumTheWeightedGradientsOfEveryRank) {
  run_ranks(2, 30s, [](ProcessGroup& group) {
    const float r = static_cast<float>(group.rank());
    // Three parameters in buckets of 16 bytes: (4 floats), (3), (2).
    std::vector<Tensor> params = {zeros({4}), zeros({3}), zeros({2})};
    for (size_t i = 0; i < params.size(); ++i) {
      params[i].set_requires_grad(true);
      std::vector<float> grad(static_cast<size_t>(params[i].numel()));
      std::iota(grad.begin(), grad.end(), 1.0f + r);
      params[i].set_grad(from_vector(grad, params[i].shape()));
    }
    // The second rank's gradient of parameter 1 is missing: it counts as zeros.
    if (group.rank() == 1) params[1].zero_grad();
    GradientBuckets buckets(params, 16);
    EXPECT_EQ(buckets.bucket_count(), 3u);
    buckets.reduce(group, group.rank() == 0 ? 0.75f : 0.25f);
    // 0.75 x (1, 2, 3, 4) + 0.25 x (2, 3, 4, 5)
    EXPECT_EQ(params[0].grad().to_vector<float>(), (std::vector<float>{1.25f, 2.25f, 3.25f, 4.25f}));
    EXPECT_EQ(params[1].grad().to_vector<float>(), (std::vector<float>{0.75f, 1.5f, 2.25f}));
    EXPECT_EQ(params[2].grad().to_vector<float>(), (std::vector<float>{1.25f, 2.25f}));
  });
}

TEST(GlooProcessGroup, BroadcastMakesReplicasAgreeAndTheChecksumFindsADifference) {
  run_ranks(2, 30s, [](ProcessGroup& group) {
    const std::vector<Tensor> weights = {from_vector(std::vector<float>{1.0f * group.rank(), 2}, {2})};
    EXPECT_THROW(check_replicas_agree(group, weights, "weights"), DistError);
    broadcast_tensors(group, weights, "weights");
    EXPECT_EQ(weights[0].to_vector<float>(), (std::vector<float>{0, 2}));
    EXPECT_NO_THROW(check_replicas_agree(group, weights, "weights"));
  });
}

// The gradient buckets' thread and backward's sync batch norm reduce at once, each on its own
// group: every rank's two threads run their own sequences of all-reduces concurrently, started
// at different moments on different ranks, and each sum is still the right one.
TEST(GlooProcessGroup, TwoGroupsReduceConcurrentlyFromTwoThreads) {
  run_ranks(2, 30s, [](ProcessGroup& group) {
    const std::unique_ptr<ProcessGroup> second = group.new_group("second");
    EXPECT_EQ(second->rank(), group.rank());
    EXPECT_EQ(second->world_size(), 2);
    const int r = group.rank();
    auto reduce_many = [r](ProcessGroup& g, float base) {
      for (int i = 0; i < 200; ++i) {
        // Rank 1 lags, so the ranks' calls meet in different orders across the two groups.
        if (r == 1 && i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::vector<float> values(1000 + i, base + static_cast<float>(i) + static_cast<float>(r));
        g.all_reduce_sum(values.data(), values.size(), "test values");
        const float expected = 2 * (base + static_cast<float>(i)) + 1;
        ASSERT_EQ(values.front(), expected) << "step " << i;
        ASSERT_EQ(values.back(), expected) << "step " << i;
      }
    };
    std::thread other([&] { reduce_many(*second, 10000); });
    reduce_many(group, 0);
    other.join();
  });
}

TEST(GlooProcessGroup, ACollectiveARankSkipsTimesOutNamingRankAndOperation) {
  const auto start = std::chrono::steady_clock::now();
  run_ranks(2, 1500ms, [](ProcessGroup& group) {
    if (group.rank() == 1) {
      std::this_thread::sleep_for(3s);  // never joins the all-reduce; leaves after rank 0 gave up
      return;
    }
    float value = 1;
    try {
      group.all_reduce_sum(&value, 1, "the test value");
      ADD_FAILURE() << "the all-reduce returned without rank 1";
    } catch (const DistError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("rank 0 of 2: all-reduce of the test value failed"), std::string::npos) << message;
    }
  });
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
}

TEST(TcpStore, WaitForAKeyNobodySetsTimesOut) {
  TcpStoreServer server("127.0.0.1", 0);
  TcpStore store("127.0.0.1", server.port(), 1, 500ms);
  store.set("here", {'x'});
  EXPECT_EQ(store.get("here"), std::vector<char>{'x'});
  try {
    store.wait({"here", "missing"});
    FAIL() << "wait returned";
  } catch (const DistError& e) {
    EXPECT_NE(std::string(e.what()).find("rank 1: rendezvous timed out after 0 s waiting for 'here', 'missing'"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(store.get("missing"), DistError);
}

// Sets the variables for the scope, unsetting every launcher variable first.
class Environment {
 public:
  explicit Environment(const std::vector<std::pair<const char*, const char*>>& values) {
    for (const char* name : kNames) {
      if (const char* v = std::getenv(name)) saved_.emplace_back(name, v);
      unsetenv(name);
    }
    for (const auto& [name, value] : values) setenv(name, value, 1);
  }
  ~Environment() {
    for (const char* name : kNames) unsetenv(name);
    for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
  }

 private:
  static constexpr const char* kNames[] = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                                           "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
                                           "OMPI_COMM_WORLD_LOCAL_RANK"};
  std::vector<std::pair<std::string, std::string>> saved_;
};

TEST(LaunchEnvironment, ReadsTorchrunsVariablesFirstThenOpenMpis) {
  {
    Environment env({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "10.0.0.2"},
                     {"MASTER_PORT", "1234"}, {"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "9"}});
    const LaunchEnvironment e = read_launch_environment();
    EXPECT_EQ(e.launcher, "torchrun");
    EXPECT_EQ(e.rank, 3);
    EXPECT_EQ(e.world_size, 4);
    EXPECT_EQ(e.local_rank, 1);
    EXPECT_EQ(e.master_addr, "10.0.0.2");
    EXPECT_EQ(e.master_port, 1234);
  }
  {
    Environment env({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}});
    const LaunchEnvironment e = read_launch_environment();
    EXPECT_EQ(e.launcher, "mpirun");
    EXPECT_EQ(e.rank, 1);
    EXPECT_EQ(e.world_size, 2);
    EXPECT_EQ(e.local_rank, 1);
    EXPECT_EQ(e.master_addr, "127.0.0.1");  // torchrun's defaults
    EXPECT_EQ(e.master_port, 29500);
  }
  {
    Environment env({});
    EXPECT_EQ(read_launch_environment().world_size, 1);
  }
}

TEST(LaunchEnvironment, RejectsValuesThatMakeNoWorld) {
  for (const auto& values : std::vector<std::vector<std::pair<const char*, const char*>>>{
           {{"RANK", "2"}, {"WORLD_SIZE", "2"}},
           {{"RANK", "0"}},
           {{"RANK", "x"}, {"WORLD_SIZE", "2"}},
           {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}}) {
    Environment env(values);
    EXPECT_THROW(read_launch_environment(), DistError) << values[0].first << "=" << values[0].second;
  }
}

TEST(LaunchEnvironment, FindsTheLoopbackAddressTowardsALoopbackMaster) {
  Environment env({});
  unsetenv("MASKDET_SOCKET_IFADDR");
  EXPECT_EQ(local_address_towards("127.0.0.1", 29500), "127.0.0.1");
}

TEST(BatchShard, ShardsInRankOrderMakeUpTheWholeBatch) {
  for (size_t size = 1; size <= 9; ++size)
    for (int ranks = 1; ranks <= 4; ++ranks) {
      size_t next = 0;
      for (int r = 0; r < ranks; ++r) {
        const auto [begin, end] = data::batch_shard(size, r, ranks);
        EXPECT_EQ(begin, next) << size << " images, rank " << r << " of " << ranks;
        EXPECT_LE(end - begin, (size + static_cast<size_t>(ranks) - 1) / static_cast<size_t>(ranks));
        next = end;
      }
      EXPECT_EQ(next, size);
    }
}

}  // namespace
}  // namespace maskdet::dist
