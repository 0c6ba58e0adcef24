// What `maskdet train` does to a snapshot folder that is not empty: a fresh run refuses a folder
// holding an earlier run's snapshots unless --overwrite, and with it keeps the earlier run until
// the new one has a snapshot of its own (a new run that fails, or is killed, before then leaves
// the earlier one as it was). Tiny runs (one 64 px step per epoch, a 130 MB snapshot): seconds
// each.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "apps/data_io/synthetic_voc.h"
#include "apps/maskdet/commands.h"
#include "cli/cli_test_util.h"
#include "data/data_test_util.h"

namespace maskdet::cli_test {
namespace {

namespace fs = std::filesystem;

// Files of the folder (not its subfolders) by name, as the size and a hash of their bytes.
std::map<std::string, std::string> folder_files(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) files[entry.path().filename().string()] = fingerprint(read_file(entry.path().string()));
  return files;
}

size_t line_count(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

class SnapshotFolder : public data::test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    data::write_synthetic_voc(path("voc"), 8, 3);
  }
  std::string train_flags() const { return "--data " + path("voc") + " --snapshot-path " + path("run") + " " + kTinyTrainFlags; }
  void train_one_epoch() {
    const CommandResult first = run_maskdet("train " + train_flags());
    ASSERT_EQ(first.exit_code, 0) << first.output;
    ASSERT_TRUE(fs::exists(path("run/epoch_001.safetensors")));
  }

  // Waits until done() holds (true) or the child `pid` has ended (false; it is left to be reaped).
  template <class Done>
  static bool until_or_exit(pid_t pid, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      siginfo_t info{};
      if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }
};

TEST_F(SnapshotFolder, AFreshRunRefusesAFolderHoldingAnEarlierRun) {
  train_one_epoch();
  const auto before = folder_files(path("run"));
  const CommandResult again = run_maskdet("train " + train_flags() + " --seed 2");
  EXPECT_EQ(again.exit_code, app::kExitUsage) << again.output;
  for (const std::string& piece : {path("run"), std::string("--resume"), std::string("--overwrite"),
                                   std::string("--snapshot-path")})
    EXPECT_NE(again.output.find(piece), std::string::npos) << piece << "\n" << again.output;
  EXPECT_EQ(folder_files(path("run")), before) << "the earlier run's snapshot and logs changed";
}

TEST_F(SnapshotFolder, OverwriteKeepsTheEarlierRunUntilTheNewOneHasASnapshot) {
  train_one_epoch();
  const auto before = folder_files(path("run"));
  // A new run that diverges at its second step, before writing any snapshot.
  const CommandResult diverged = run_maskdet("train " + train_flags() +
                                             " --overwrite --steps 3 --lr 1e30 --clip-grad-norm 0 --seed 2");
  EXPECT_EQ(diverged.exit_code, app::kExitDiverged) << diverged.output;
  EXPECT_EQ(folder_files(path("run")), before) << "the earlier run must be back as it was\n" << diverged.output;
  for (const auto& entry : fs::directory_iterator(path("run")))
    EXPECT_TRUE(entry.is_regular_file()) << "left behind: " << entry.path();

  // Killed outright in its first epoch, once it has set the earlier run aside and started its
  // own step log: the next start brings the earlier run back.
  const pid_t pid = spawn_maskdet("train " + train_flags() + " --overwrite --seed 2 --steps 1000000", path("background.log"));
  const bool started = until_or_exit(pid, [&] {
    return !fs::exists(path("run/epoch_001.safetensors")) && fs::exists(path("run/steps.csv"));
  });
  EXPECT_TRUE(started) << read_file(path("background.log"));
  kill(pid, SIGKILL);
  wait_for_exit(pid);
  const CommandResult next = run_maskdet("train --resume " + path("run"));
  EXPECT_EQ(next.exit_code, 0) << next.output;
  EXPECT_NE(next.output.find("nothing to do"), std::string::npos) << next.output;
  EXPECT_EQ(folder_files(path("run")), before) << next.output;

  // A new run that succeeds replaces the earlier one: its own snapshot and logs only.
  const CommandResult replaced = run_maskdet("train " + train_flags() + " --overwrite --seed 2 --steps 2");
  ASSERT_EQ(replaced.exit_code, 0) << replaced.output;
  const auto after = folder_files(path("run"));
  EXPECT_NE(after.at("epoch_001.safetensors"), before.at("epoch_001.safetensors"));
  EXPECT_EQ(line_count(read_file(path("run/steps.csv"))), 1u + 2u) << read_file(path("run/steps.csv"));
  EXPECT_EQ(line_count(read_file(path("run/epochs.jsonl"))), 1u);
  for (const auto& entry : fs::directory_iterator(path("run")))
    EXPECT_TRUE(entry.is_regular_file()) << "left behind: " << entry.path();
}

}  // namespace
}  // namespace maskdet::cli_test
