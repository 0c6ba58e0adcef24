// `maskdet train` on two ranks as real processes on loopback, under both launchers: one step
// equals the single-process step on the same global batch (mpirun), a short run repeats the
// single-process loss curve and validation figures (torchrun's environment), and a rank that
// is killed or stopped ends the other with an error naming its rank and the operation within
// --dist-timeout. The runs are tiny (ResNet-18 with 16-channel heads at 96-128 px, one thread
// per rank): seconds each.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "apps/data_io/synthetic_voc.h"
#include "apps/maskdet/commands.h"
#include "data/data_test_util.h"
#include "dist/dist_test_util.h"
#include "tensor/safetensors.h"

namespace maskdet::dist_test {
namespace {

using cli_test::CommandResult;
using cli_test::read_file;
using cli_test::run_maskdet;
using cli_test::wait_for_exit;

bool have_mpirun() { return std::system("command -v mpirun > /dev/null 2>&1") == 0; }

// mpirun as root (CI containers), with more ranks than cores allowed; it ends the job itself if
// the run hangs past 300 s.
std::string mpirun(int ranks, int port) {
  return "mpirun --allow-run-as-root --oversubscribe --timeout 300 -np " + std::to_string(ranks) +
         " -x OMP_NUM_THREADS=1 -x MASTER_PORT=" + std::to_string(port);
}

class DataParallel : public data::test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    data::write_synthetic_voc(path("voc"), 24, 7);
  }
  std::string flags() const {
    return "--data " + path("voc") +
           " --backbone resnet18 --norm frozen --image-min-side 96 --image-max-side 96 --fpn-channels 16 "
           "--workers 0 --warmup-steps 0 --seed 5 --keep-snapshots 0";
  }

  struct TwoRanks {
    int status0 = -1, status1 = -1;
    std::string log0, log1;
  };
  // `maskdet <args>` as rank 0 and rank 1 under torchrun's environment on a free port, their
  // output in <logs>0.log and <logs>1.log; each waited for up to timeout_s.
  TwoRanks run_two_ranks(const std::string& args, const std::string& logs, int timeout_s = 300) {
    const int port = free_port();
    const pid_t rank0 = spawn(torchrun_env(0, 2, port), args, path(logs + "0.log"));
    const pid_t rank1 = spawn(torchrun_env(1, 2, port), args, path(logs + "1.log"));
    TwoRanks ranks;
    ranks.status0 = wait_for_exit(rank0, timeout_s);
    ranks.status1 = wait_for_exit(rank1, timeout_s);
    ranks.log0 = read_file(path(logs + "0.log"));
    ranks.log1 = read_file(path(logs + "1.log"));
    return ranks;
  }
};

// A tensor's scale is its largest magnitude, but at least kTinyScale: a bias the network leaves
// at about 1e-9 (its gradient cancels) would otherwise make rounding noise look relative.
constexpr double kTinyScale = 1e-4;

struct Difference {
  double parameters = 0;  // worst |a - b| / max(max |b|, kTinyScale) over the tensors
  double updates = 0;     // the same for a - start and b - start
  std::string worst;      // the tensor of the worst update
};

Difference compare(const std::string& a_path, const std::string& b_path, const std::string& start_path) {
  const auto a = load_safetensors(a_path), b = load_safetensors(b_path), start = load_safetensors(start_path);
  Difference d;
  for (const auto& [name, tb] : b) {
    if (name.rfind("model.", 0) != 0 || tb.dtype() != DType::Float32) continue;
    const std::vector<float> x = a.at(name).to_vector<float>(), y = tb.to_vector<float>(),
                             s = start.at(name).to_vector<float>();
    double error = 0, scale = 0, update_scale = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      error = std::max(error, std::abs(static_cast<double>(x[i]) - y[i]));
      scale = std::max(scale, std::abs(static_cast<double>(y[i])));
      update_scale = std::max(update_scale, std::abs(static_cast<double>(y[i]) - s[i]));
    }
    d.parameters = std::max(d.parameters, error / std::max(scale, kTinyScale));
    // (a - start) - (b - start) is a - b: the same error, against the update's scale.
    if (update_scale > 0 && error / update_scale > d.updates) {
      d.updates = error / update_scale;
      d.worst = name;
    }
  }
  return d;
}

TEST_F(DataParallel, OneStepOnTwoRanksEqualsTheSingleProcessStep) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun (openmpi-bin) is not installed";
  // A global batch of 3: shards of 2 and 1 images, so the per-rank weighting matters.
  // SGD, so that the update is the gradient (AdamW's first step is nearly its sign); augmentation
  // on, so the shards' images differ in size and the padding to the global batch's size matters.
  const std::string step =
      flags() + " --epochs 1 --steps 1 --batch-size 3 --optimizer sgd --random-transform --no-evaluation";
  // The starting weights: the same seed with a step too small to move them.
  const CommandResult start = run_maskdet("train " + step + " --lr 1e-30 --snapshot-path " + path("start"),
                                          "OMP_NUM_THREADS=1");
  ASSERT_EQ(start.exit_code, 0) << start.output;
  const CommandResult single = run_maskdet("train " + step + " --lr 0.05 --snapshot-path " + path("single"),
                                           "OMP_NUM_THREADS=1");
  ASSERT_EQ(single.exit_code, 0) << single.output;
  const CommandResult two =
      run_maskdet("train " + step + " --lr 0.05 --snapshot-path " + path("two"), mpirun(2, free_port()));
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_NE(two.output.find("data-parallel on 2 ranks (gloo)"), std::string::npos) << two.output;

  const std::string snapshot = "/epoch_001.safetensors";
  const Difference d = compare(path("two") + snapshot, path("single") + snapshot, path("start") + snapshot);
  std::printf("one step, 2 ranks vs 1: worst parameter difference %.3g of the tensor's largest value, worst update "
              "difference %.3g of its largest update (%s)\n",
              d.parameters, d.updates, d.worst.c_str());
  EXPECT_LT(d.parameters, 1e-5);
  // The gradients' float32 sums run in another order over shards of 2 and 1 images than over
  // the batch of 3 (about 3e-4 of a tensor's largest update here); a wrong weighting or a
  // missing shard is off by tens of percent.
  EXPECT_LT(d.updates, 5e-3) << d.worst;
  // The step moved the weights: an update compared with nothing would pass any test.
  const Difference moved = compare(path("single") + snapshot, path("start") + snapshot, path("start") + snapshot);
  EXPECT_GT(moved.parameters, 1e-6);
  // The loss logged is the global batch's.
  const auto single_loss = csv_column(path("single") + "/steps.csv", "loss");
  const auto two_loss = csv_column(path("two") + "/steps.csv", "loss");
  ASSERT_EQ(single_loss.size(), 1u);
  ASSERT_EQ(two_loss.size(), 1u);
  EXPECT_NEAR(two_loss[0], single_loss[0], 1e-5 * single_loss[0]);
}

// --sync-bn: batch norm trained from scratch (--norm batch) over shards of 2 and 1 images gives
// the single process's step, running statistics included; without it each rank normalises with
// its own shard's statistics, and the step differs.
TEST_F(DataParallel, SyncBatchNormStepOnTwoRanksEqualsTheSingleProcessStep) {
  std::string single_step = flags() + " --epochs 1 --steps 1 --batch-size 3 --optimizer sgd --random-transform "
                                     "--no-evaluation";
  single_step.replace(single_step.find("--norm frozen"), 13, "--norm batch");
  const CommandResult start = run_maskdet("train " + single_step + " --lr 1e-30 --snapshot-path " + path("start"),
                                          "OMP_NUM_THREADS=1");
  ASSERT_EQ(start.exit_code, 0) << start.output;
  // One process with --sync-bn is ordinary batch norm, and says so.
  const CommandResult single = run_maskdet(
      "train " + single_step + " --sync-bn --lr 0.05 --snapshot-path " + path("single"), "OMP_NUM_THREADS=1");
  ASSERT_EQ(single.exit_code, 0) << single.output;
  EXPECT_NE(single.output.find("--sync-bn: a single process's batch norm already sees the whole batch"),
            std::string::npos)
      << single.output;
  auto two_ranks = [&](const std::string& extra, const std::string& folder) {
    const TwoRanks ranks =
        run_two_ranks("train " + single_step + extra + " --lr 0.05 --snapshot-path " + path(folder), folder);
    EXPECT_EQ(ranks.status0, 0) << ranks.log0;
    EXPECT_EQ(ranks.status1, 0) << ranks.log1;
    return ranks.log0;
  };
  const std::string synced_log = two_ranks(" --sync-bn", "synced");
  EXPECT_NE(synced_log.find("batch norms use the global batch's statistics (--sync-bn)"), std::string::npos)
      << synced_log;
  two_ranks("", "own");

  const std::string snapshot = "/epoch_001.safetensors";
  const Difference synced = compare(path("synced") + snapshot, path("single") + snapshot, path("start") + snapshot);
  const Difference own = compare(path("own") + snapshot, path("single") + snapshot, path("start") + snapshot);
  std::printf("one step with batch norm, 2 ranks vs 1: --sync-bn worst parameter difference %.3g (update %.3g, %s); "
              "without it %.3g (update %.3g, %s)\n",
              synced.parameters, synced.updates, synced.worst.c_str(), own.parameters, own.updates, own.worst.c_str());
  // The parameters and the running statistics (buffers of the model, compared the same way).
  EXPECT_LT(synced.parameters, 1e-5) << synced.worst;
  EXPECT_LT(synced.updates, 5e-3) << synced.worst;
  EXPECT_GT(own.updates, 20 * std::max(synced.updates, 1e-4)) << own.worst;
}

TEST_F(DataParallel, ShortRunRepeatsTheSingleProcessLossCurveAndMap) {
  // Weights with some mAP to compare: ten AdamW steps in one process. The compared runs go on
  // from them with SGD: AdamW divides each gradient by its running size, so an element whose
  // gradient is rounding noise moves by a whole lr step either way, and the runs soon part.
  const CommandResult warm = run_maskdet("train " + flags() + " --epochs 1 --steps 10 --batch-size 4 --optimizer adamw "
                                         "--lr 0.001 --warmup-steps 5 --val-fraction 0.25 --no-evaluation --snapshot-path " +
                                         path("warm"));
  ASSERT_EQ(warm.exit_code, 0) << warm.output;
  const std::string run = flags() + " --weights " + path("warm") +
                          "/epoch_001.safetensors --epochs 2 --steps 6 --batch-size 4 --optimizer sgd --lr 0.005 "
                          "--val-fraction 0.25";
  const CommandResult single = run_maskdet("train " + run + " --snapshot-path " + path("single"), "OMP_NUM_THREADS=1");
  ASSERT_EQ(single.exit_code, 0) << single.output;
  const TwoRanks ranks = run_two_ranks("train " + run + " --snapshot-path " + path("two"), "rank");
  ASSERT_EQ(ranks.status0, 0) << ranks.log0;
  ASSERT_EQ(ranks.status1, 0) << ranks.log1;
  // Rank 1 trains silently: rank 0 alone reports.
  EXPECT_EQ(ranks.log1.find("epoch 2/2"), std::string::npos) << ranks.log1;

  // Tolerance: the sums over ranks round differently from the single process's sums over images
  // (float32), which after 12 steps moves the losses by about 1e-6 relative.
  const auto single_loss = csv_column(path("single") + "/steps.csv", "loss");
  const auto two_loss = csv_column(path("two") + "/steps.csv", "loss");
  ASSERT_EQ(single_loss.size(), 12u);
  ASSERT_EQ(two_loss.size(), 12u);
  double worst = 0;
  for (size_t i = 0; i < single_loss.size(); ++i)
    worst = std::max(worst, std::abs(two_loss[i] - single_loss[i]) / single_loss[i]);
  std::printf("12 steps, 2 ranks vs 1: worst relative loss difference %.3g\n", worst);
  EXPECT_LT(worst, 1e-4);
  // The validation figures of both epochs; the detections come from weights equal to about 1e-6,
  // so the figures agree to well within 0.01 unless a shard's detections were lost.
  const auto single_map = csv_column(path("single") + "/epochs.csv", "val_map50");
  EXPECT_GT(*std::max_element(single_map.begin(), single_map.end()), 0) << "no mAP to compare";
  for (const std::string figure : {"val_map50", "val_map"}) {
    const auto a = csv_column(path("single") + "/epochs.csv", figure), b = csv_column(path("two") + "/epochs.csv", figure);
    ASSERT_EQ(a.size(), 2u) << figure;
    ASSERT_EQ(b.size(), 2u) << figure;
    for (size_t e = 0; e < a.size(); ++e) {
      std::printf("epoch %zu %s: single %.4f, two ranks %.4f\n", e + 1, figure.c_str(), a[e], b[e]);
      EXPECT_NEAR(b[e], a[e], 0.01) << figure << " of epoch " << e + 1;
    }
  }
}

// Snapshots do not depend on the world size: a run's first epoch in one process, its second on
// two ranks from the snapshot, repeats the uninterrupted single-process run.
TEST_F(DataParallel, ResumesASingleProcessSnapshotOnTwoRanks) {
  const std::string run = flags() + " --epochs 2 --steps 3 --batch-size 2 --optimizer sgd --lr 0.005 --no-evaluation";
  const CommandResult whole = run_maskdet("train " + run + " --snapshot-path " + path("whole"), "OMP_NUM_THREADS=1");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const CommandResult first = run_maskdet("train " + run + " --epochs 1 --snapshot-path " + path("halves"),
                                          "OMP_NUM_THREADS=1");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const TwoRanks ranks = run_two_ranks("train --resume " + path("halves") + " --epochs 2", "rank");
  ASSERT_EQ(ranks.status0, 0) << ranks.log0;
  ASSERT_EQ(ranks.status1, 0) << ranks.log1;
  EXPECT_NE(ranks.log0.find("resuming"), std::string::npos) << ranks.log0;

  const auto a = csv_column(path("whole") + "/steps.csv", "loss"), b = csv_column(path("halves") + "/steps.csv", "loss");
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), 6u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(b[i], a[i], 1e-5 * a[i]) << "step " << i + 1;
  const std::string snapshot = "/epoch_002.safetensors";
  const Difference d = compare(path("halves") + snapshot, path("whole") + snapshot, path("halves") + "/epoch_001.safetensors");
  EXPECT_LT(d.parameters, 1e-5) << d.worst;
}

// The step schedule multiplies the lr by 1e12 after epoch 1: the loss of epoch 2 is not finite on
// some rank, and the summed loss makes every rank see it and stop at the same step.
TEST_F(DataParallel, EveryRankStopsTogetherOnANonFiniteLoss) {
  const std::string run = flags() +
                          " --epochs 3 --steps 2 --batch-size 2 --lr-drop-epochs 1 --lr-gamma 1e12 --clip-grad-norm 0 "
                          "--no-evaluation --dist-timeout 30 --snapshot-path " + path("run");
  const TwoRanks ranks = run_two_ranks("train " + run, "rank", 120);
  const std::string &log0 = ranks.log0, &log1 = ranks.log1;
  EXPECT_EQ(ranks.status0, app::kExitDiverged) << log0;
  EXPECT_EQ(ranks.status1, app::kExitDiverged) << log1;
  // Both name the same step; neither waited for the other (that would be a timeout, not this).
  const size_t at0 = log0.find(" at epoch 2, step "), at1 = log1.find(" at epoch 2, step ");
  ASSERT_NE(at0, std::string::npos) << log0;
  ASSERT_NE(at1, std::string::npos) << log1;
  EXPECT_EQ(log0.substr(at0, 30), log1.substr(at1, 30));
  EXPECT_FALSE(std::filesystem::exists(path("run") + "/epoch_002.safetensors"));
}

TEST_F(DataParallel, BenchReportsTheAllReduceTimeOnTwoRanks) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun (openmpi-bin) is not installed";
  const CommandResult bench = run_maskdet(
      "bench --backbone resnet18 --fpn-channels 8 --size 64x64 --batch-size 2 --mode train --warmup 0 --iters 2",
      mpirun(2, free_port()));
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  EXPECT_NE(bench.output.find("data-parallel: 2 ranks"), std::string::npos) << bench.output;
  const size_t row = bench.output.find("gradient all-reduce per step (ms, p50)");
  ASSERT_NE(row, std::string::npos) << bench.output;
  const double ms = std::strtod(bench.output.c_str() + row + 40, nullptr);
  EXPECT_GT(ms, 0) << bench.output;
}

// A run of many steps on 2 ranks with a short timeout, rank 1 signalled once both train.
class LostRank : public DataParallel {
 protected:
  // Returns rank 0's exit status and how long it took after the signal.
  std::pair<int, double> signal_rank1(int signal) {
    const std::string run = flags() + " --epochs 1 --steps 500 --batch-size 2 --no-evaluation --dist-timeout 4";
    const int port = free_port();
    const pid_t rank0 = spawn(torchrun_env(0, 2, port), "train " + run + " --snapshot-path " + path("two"), path("rank0.log"));
    const pid_t rank1 = spawn(torchrun_env(1, 2, port), "train " + run + " --snapshot-path " + path("two"), path("rank1.log"));
    // Training has begun once rank 0 reports its data set (after the rendezvous).
    for (int i = 0; i < 600 && read_file(path("rank0.log")).find("training on") == std::string::npos; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    kill(rank1, signal);
    const auto start = std::chrono::steady_clock::now();
    const int status = wait_for_exit(rank0, 60);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    kill(rank1, SIGKILL);
    kill(rank1, SIGCONT);
    wait_for_exit(rank1, 30);
    return {status, seconds};
  }
};

TEST_F(LostRank, KilledRankEndsTheOtherWithAnError) {
  const auto [status, seconds] = signal_rank1(SIGKILL);
  const std::string log = read_file(path("rank0.log"));
  EXPECT_EQ(status, 1) << log;
  EXPECT_LT(seconds, 4 + 10) << log;
  EXPECT_NE(log.find("rank 0 of 2: "), std::string::npos) << log;
  EXPECT_NE(log.find(" failed (timeout 4 s"), std::string::npos) << log;
}

TEST_F(LostRank, StoppedRankEndsTheOtherWithinTheTimeout) {
  const auto [status, seconds] = signal_rank1(SIGSTOP);
  const std::string log = read_file(path("rank0.log"));
  EXPECT_EQ(status, 1) << log;
  EXPECT_GE(seconds, 3) << log;  // it waited for the stopped rank...
  EXPECT_LT(seconds, 4 + 10) << log;  // ...but not for ever
  EXPECT_NE(log.find("rank 0 of 2: "), std::string::npos) << log;
  EXPECT_NE(log.find("Timed out"), std::string::npos) << log;
}

TEST_F(DataParallel, RankThatNeverComesEndsTheRendezvous) {
  const CommandResult alone = run_maskdet("train " + flags() + " --epochs 1 --steps 1 --dist-timeout 2 --snapshot-path " +
                                              path("alone"),
                                          torchrun_env(0, 2, free_port()));
  EXPECT_EQ(alone.exit_code, 1) << alone.output;
  EXPECT_LT(alone.seconds, 2 + 10) << alone.output;
  EXPECT_NE(alone.output.find("rank 0: rendezvous timed out after 2 s"), std::string::npos) << alone.output;
}

}  // namespace
}  // namespace maskdet::dist_test
