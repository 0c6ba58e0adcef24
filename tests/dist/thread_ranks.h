// Ranks as threads of the test process: each joins one Gloo group through its own TcpStore
// client, rank 0 serving the store on a free loopback port.
#pragma once
#include <chrono>
#include <functional>
#include <future>
#include <vector>

#include "apps/dist/gloo_process_group.h"
#include "dist/dist_test_util.h"

namespace maskdet::dist_test {

// Runs body(group) on `world` threads, one rank each; rethrows the first failure.
inline void run_ranks(int world, std::chrono::milliseconds timeout,
                      const std::function<void(dist::ProcessGroup&)>& body) {
  const int port = free_port();
  std::vector<std::future<void>> ranks;
  for (int r = 0; r < world; ++r)
    ranks.push_back(std::async(std::launch::async, [=] {
      dist::LaunchEnvironment env;
      env.rank = r;
      env.world_size = world;
      env.master_port = port;
      const auto group = dist::make_gloo_process_group(env, timeout);
      body(*group);
    }));
  for (auto& r : ranks) r.get();
}

}  // namespace maskdet::dist_test
