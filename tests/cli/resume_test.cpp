// Snapshots as the way a run survives interruption: `--resume` repeats the uninterrupted run's
// losses and weights (and --ema's average) exactly, refuses settings that would not fit the snapshot, and a run whose
// loss stops being finite exits with a message and leaves the last good snapshot as it was.
// Small runs (40 images, 4 steps of 2 per epoch at 128-160 px): seconds each.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "apps/data_io/synthetic_voc.h"
#include "apps/maskdet/commands.h"
#include "apps/maskdet/snapshot.h"
#include "cli/cli_test_util.h"
#include "data/data_test_util.h"
#include "tensor/safetensors.h"

namespace maskdet::cli_test {
namespace {

namespace fs = std::filesystem;

class Resume : public data::test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    data::write_synthetic_voc(path("voc"), 40, 5);
  }
  // Augmentation on, so the per-sample random streams are part of what must repeat.
  std::string flags() const {
    return "--data " + path("voc") +
           " --backbone resnet18 --image-min-side 128 --image-max-side 160 --steps 4 --batch-size 2 --warmup-steps 3 "
           "--random-transform --keep-snapshots 0";
  }
};

// Every tensor of both files, byte for byte (names, shapes, dtypes and values).
::testing::AssertionResult same_tensors(const std::string& a, const std::string& b) {
  const auto x = load_safetensors(a), y = load_safetensors(b);
  if (x.size() != y.size()) return ::testing::AssertionFailure() << x.size() << " vs " << y.size() << " tensors";
  for (const auto& [name, tensor] : x) {
    const auto it = y.find(name);
    if (it == y.end()) return ::testing::AssertionFailure() << name << " missing from " << b;
    const Tensor& other = it->second;
    if (tensor.shape() != other.shape() || tensor.dtype() != other.dtype() ||
        std::memcmp(tensor.raw_data(), other.raw_data(), static_cast<size_t>(tensor.numel()) * dtype_size(tensor.dtype())))
      return ::testing::AssertionFailure() << name << " differs";
  }
  return ::testing::AssertionSuccess();
}

// With --ema, so the weights' average is part of what must carry on exactly; evaluate scores it
// by default.
TEST_F(Resume, RepeatsTheUninterruptedRunExactly) {
  const std::string whole = path("whole"), halves = path("halves");
  const CommandResult uninterrupted =
      run_maskdet("train " + flags() + " --ema 0.9 --epochs 2 --snapshot-path " + whole);
  ASSERT_EQ(uninterrupted.exit_code, 0) << uninterrupted.output;
  const CommandResult first = run_maskdet("train " + flags() + " --ema 0.9 --epochs 1 --snapshot-path " + halves);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const CommandResult second = run_maskdet("train --resume " + halves + " --epochs 2");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("resuming"), std::string::npos) << second.output;

  const std::string steps = read_file(whole + "/steps.csv");
  EXPECT_EQ(std::count(steps.begin(), steps.end(), '\n'), 1 + 2 * 4) << steps;
  EXPECT_EQ(read_file(halves + "/steps.csv"), steps) << "the losses of every step";
  EXPECT_TRUE(same_tensors(whole + "/epoch_002.safetensors", halves + "/epoch_002.safetensors"))
      << "model weights, optimiser state and weight average";
  const app::Snapshot snapshot = app::load_snapshot(halves + "/epoch_002.safetensors");
  EXPECT_EQ(snapshot.info.step, 8);
  EXPECT_EQ(snapshot.average_updates, 8);
  ASSERT_EQ(snapshot.average.size(), snapshot.model.size());
  const std::string key = "head.classification_head.cls_logits.weight";
  ASSERT_TRUE(snapshot.average.count(key) && snapshot.model.count(key));
  EXPECT_NE(snapshot.average.at(key).to_vector<float>(), snapshot.model.at(key).to_vector<float>())
      << "the average lags the weights";

  // The first pass only (--min-face 0): what is scored matters here, not the small-face pass.
  const CommandResult evaluate = run_maskdet("evaluate --snapshot " + halves + " --min-face 0 --out " + path("eval"));
  ASSERT_EQ(evaluate.exit_code, 0) << evaluate.output;
  EXPECT_NE(evaluate.output.find("weights: their moving average (train --ema 0.9"), std::string::npos)
      << evaluate.output;
  const CommandResult trained =
      run_maskdet("evaluate --snapshot " + halves + " --trained-weights --min-face 0 --out " + path("eval_trained"));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_EQ(trained.output.find("moving average"), std::string::npos) << trained.output;
}

TEST_F(Resume, RefusesSettingsTheSnapshotFixes) {
  const std::string run = path("run");
  ASSERT_EQ(run_maskdet("train " + flags() + " --epochs 1 --snapshot-path " + run).exit_code, 0);
  const CommandResult backbone = run_maskdet("train --resume " + run + " --epochs 2 --backbone resnet34");
  EXPECT_EQ(backbone.exit_code, app::kExitUsage) << backbone.output;
  EXPECT_NE(backbone.output.find("--backbone resnet34 differs from the snapshot's resnet18"), std::string::npos)
      << backbone.output;
  const CommandResult lr = run_maskdet("train --resume " + run + " --epochs 2 --lr 0.5");
  EXPECT_EQ(lr.exit_code, app::kExitUsage) << lr.output;
  const CommandResult done = run_maskdet("train --resume " + run + " --epochs 1");
  EXPECT_EQ(done.exit_code, 0) << done.output;
  EXPECT_NE(done.output.find("nothing to do"), std::string::npos) << done.output;
}

// The step schedule multiplies the lr by 1e12 after epoch 1: epoch 2 diverges at once.
TEST_F(Resume, DivergenceStopsAndKeepsTheLastGoodSnapshot) {
  const std::string run = path("run"), good = run + "/epoch_001.safetensors";
  const std::string exploding = " --lr-drop-epochs 1 --lr-gamma 1e12 --clip-grad-norm 0";
  ASSERT_EQ(run_maskdet("train " + flags() + exploding + " --epochs 1 --snapshot-path " + run).exit_code, 0);
  const std::string before = read_file(good);
  const CommandResult diverged = run_maskdet("train --resume " + run + " --epochs 3");
  EXPECT_EQ(diverged.exit_code, app::kExitDiverged) << diverged.output;
  EXPECT_NE(diverged.output.find("training diverged: "), std::string::npos) << diverged.output;
  EXPECT_NE(diverged.output.find(" at epoch 2, step "), std::string::npos) << diverged.output;
  EXPECT_NE(diverged.output.find("the last good snapshot is " + good), std::string::npos) << diverged.output;
  EXPECT_EQ(read_file(good), before) << "the last good snapshot changed";
  EXPECT_FALSE(fs::exists(run + "/epoch_002.safetensors"));
  EXPECT_EQ(app::load_snapshot(good).info.epoch, 1);
}

}  // namespace
}  // namespace maskdet::cli_test
