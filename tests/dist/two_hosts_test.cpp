// Two ranks on two "hosts": network namespaces joined by a veth pair, so the rendezvous and
// Gloo's traffic cross a real link between two addresses (10.213.0.1 and .2) rather than
// loopback. Rank 0 runs in one namespace and serves the store at its own address; rank 1, in
// the other, is given that address as MASTER_ADDR, and its TCP device binds to the address that
// routes there (its side of the link). Needs CAP_NET_ADMIN (ip netns); skipped without it. The
// namespaces (and with them the veth pair) are removed by the test, whatever its outcome.
#include <gtest/gtest.h>

#include <cstdlib>

#include "apps/data_io/synthetic_voc.h"
#include "data/data_test_util.h"
#include "dist/dist_test_util.h"

namespace maskdet::dist_test {
namespace {

int shell(const std::string& command) { return std::system((command + " > /dev/null 2>&1").c_str()); }

// Two namespaces named after this process, linked by veth; deleted in the destructor.
class LinkedNamespaces {
 public:
  LinkedNamespaces()
      : a_("maskdet_a_" + std::to_string(getpid())),
        b_("maskdet_b_" + std::to_string(getpid())),
        veth_a_("mdva" + std::to_string(getpid() % 100000)),
        veth_b_("mdvb" + std::to_string(getpid() % 100000)) {}
  ~LinkedNamespaces() {
    shell("ip netns del " + a_);
    shell("ip netns del " + b_);
  }
  // Empty when both are up and reach each other, else what failed.
  std::string create() {
    if (shell("ip netns add " + a_) != 0) return "ip netns add failed (no CAP_NET_ADMIN, or no iproute2)";
    const std::string &veth_a = veth_a_, &veth_b = veth_b_;
    for (const std::string& step :
         {"ip netns add " + b_, "ip link add " + veth_a + " netns " + a_ + " type veth peer name " + veth_b + " netns " + b_,
          "ip -n " + a_ + " addr add " + kAddressA + "/24 dev " + veth_a,
          "ip -n " + b_ + " addr add " + kAddressB + "/24 dev " + veth_b, "ip -n " + a_ + " link set " + veth_a + " up",
          "ip -n " + b_ + " link set " + veth_b + " up", "ip -n " + a_ + " link set lo up",
          "ip -n " + b_ + " link set lo up"})
      if (shell(step) != 0) return "'" + step + "' failed";
    return "";
  }
  std::string in_a() const { return "ip netns exec " + a_; }
  std::string in_b() const { return "ip netns exec " + b_; }
  const std::string& veth_b() const { return veth_b_; }

  static constexpr const char* kAddressA = "10.213.0.1";
  static constexpr const char* kAddressB = "10.213.0.2";

 private:
  std::string a_, b_, veth_a_, veth_b_;
};

class TwoHosts : public data::test::TempDirTest {};

TEST_F(TwoHosts, RanksInLinkedNamespacesTrainOverTheLink) {
  LinkedNamespaces hosts;
  if (const std::string problem = hosts.create(); !problem.empty())
    GTEST_SKIP() << "cannot make two network namespaces here: " << problem;
  data::write_synthetic_voc(path("voc"), 16, 3);
  const std::string run = "train --data " + path("voc") +
                          " --backbone resnet18 --norm frozen --image-min-side 64 --image-max-side 64 --fpn-channels 8 "
                          "--workers 0 --warmup-steps 0 --epochs 1 --steps 2 --batch-size 2 --dist-timeout 60 "
                          "--snapshot-path " + path("run");
  const int port = free_port();  // a fresh namespace has every port free; this one is also free here
  const std::string master = LinkedNamespaces::kAddressA;
  const pid_t rank0 = spawn(hosts.in_a() + " " + torchrun_env(0, 2, port, master), run, path("rank0.log"));
  const pid_t rank1 = spawn(hosts.in_b() + " " + torchrun_env(1, 2, port, master), run, path("rank1.log"));
  const int status0 = cli_test::wait_for_exit(rank0, 240), status1 = cli_test::wait_for_exit(rank1, 240);
  const std::string log0 = cli_test::read_file(path("rank0.log")), log1 = cli_test::read_file(path("rank1.log"));
  EXPECT_EQ(status0, 0) << log0;
  EXPECT_EQ(status1, 0) << log1;
  EXPECT_NE(log0.find("data-parallel on 2 ranks (gloo)"), std::string::npos) << log0;
  EXPECT_TRUE(std::filesystem::exists(path("run") + "/epoch_001.safetensors")) << log0;
  // The link carried the traffic: rank 1 received rank 0's weights (ResNet-18: over 40 MB) on
  // its side of the veth, the namespaces' only way to each other.
  const std::string counters = path("counters.txt");
  std::system((hosts.in_b() + " ip -s link show dev " + hosts.veth_b() + " > " + counters + " 2>&1").c_str());
  const std::string stats = cli_test::read_file(counters);
  const size_t rx = stats.find("RX:");
  ASSERT_NE(rx, std::string::npos) << stats;
  const size_t numbers = stats.find('\n', rx);
  ASSERT_NE(numbers, std::string::npos) << stats;
  const double received = std::strtod(stats.c_str() + numbers + 1, nullptr);
  std::printf("rank 1's side of the link received %.1f MB\n", received / 1e6);
  EXPECT_GT(received, 40e6) << stats;
}

}  // namespace
}  // namespace maskdet::dist_test
