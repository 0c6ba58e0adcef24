// What `maskdet train` does to a snapshot folder that is not empty, and what an interrupted
// run leaves there: a fresh run refuses a folder holding an earlier run's snapshots unless
// --overwrite, and with it keeps the earlier run until the new one has a snapshot of its own;
// SIGTERM or SIGINT during a snapshot write removes the run's temporary files and exits with
// 128 + the signal; the temporaries of writers killed outright (kill -9) are removed on the
// next start. Tiny runs (one 64 px step per epoch, a 130 MB snapshot): seconds each.
#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <utime.h>

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

std::vector<std::string> temporaries_in(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) found.push_back(entry.path().string());
  return found;
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

  // Runs `maskdet <args>` in the background until it creates, in `dir`, a file whose name starts
  // with `prefix` and holds ".tmp." (a temporary being written), then stops it there (SIGSTOP)
  // and returns its pid, with the temporary's path in `temporary`; -1 if that never happened.
  pid_t stop_during_write(const std::string& args, const std::string& dir, const std::string& prefix,
                          std::string& temporary) {
    const int watch = inotify_init1(IN_NONBLOCK);
    if (watch < 0 || inotify_add_watch(watch, dir.c_str(), IN_CREATE) < 0) return -1;
    const pid_t pid = spawn_maskdet(args, path("background.log"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    alignas(inotify_event) char buffer[8192];
    while (std::chrono::steady_clock::now() < deadline) {
      const ssize_t n = read(watch, buffer, sizeof buffer);
      if (n <= 0) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) break;  // ended without writing one
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        continue;
      }
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        const std::string name = event->len ? event->name : "";
        if (name.rfind(prefix, 0) != 0 || name.find(".tmp.") == std::string::npos) continue;
        kill(pid, SIGSTOP);
        if (fs::exists(fs::path(dir) / name)) {
          close(watch);
          temporary = (fs::path(dir) / name).string();
          return pid;
        }
        kill(pid, SIGCONT);  // renamed already: wait for the next
      }
    }
    close(watch);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return -1;
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

TEST_F(SnapshotFolder, SigtermOrSigintDuringASnapshotWriteRemovesItsTemporaries) {
  train_one_epoch();
  const std::string good = fingerprint(read_file(path("run/epoch_001.safetensors")));
  for (const int signal : {SIGTERM, SIGINT}) {
    std::string temporary;
    const pid_t pid = stop_during_write("train --resume " + path("run") + " --epochs 50", path("run"), "epoch_", temporary);
    ASSERT_GT(pid, 0) << "no snapshot write was caught\n" << read_file(path("background.log"));
    kill(pid, signal);
    kill(pid, SIGCONT);
    EXPECT_EQ(wait_for_exit(pid), 128 + signal) << read_file(path("background.log"));
    EXPECT_FALSE(fs::exists(temporary)) << temporary;
    EXPECT_TRUE(temporaries_in(path("run")).empty()) << temporaries_in(path("run")).front();
    EXPECT_EQ(fingerprint(read_file(path("run/epoch_001.safetensors"))), good) << "the last good snapshot changed";
  }
}

TEST_F(SnapshotFolder, TemporariesOfKilledWritersAreRemovedOnTheNextStart) {
  train_one_epoch();
  std::string temporary;
  const pid_t pid = stop_during_write("train --resume " + path("run") + " --epochs 50", path("run"), "epoch_", temporary);
  ASSERT_GT(pid, 0) << "no snapshot write was caught\n" << read_file(path("background.log"));
  kill(pid, SIGKILL);
  EXPECT_EQ(wait_for_exit(pid), 128 + SIGKILL);
  ASSERT_TRUE(fs::exists(temporary)) << "kill -9 leaves the temporary: nothing can remove it then";

  // More leftovers named as the writers name them (<file>.tmp.<pid>.<n>): of a process that no
  // longer exists (a pid above the system's largest), of a pid now reused by a process that
  // started after the file was last written (this test, for a file dated 2001), and of a live
  // writer, which must stay.
  int64_t pid_max = 4194304;
  std::ifstream("/proc/sys/kernel/pid_max") >> pid_max;
  const std::string dead = path("run/epoch_007.safetensors.tmp." + std::to_string(pid_max + 1) + ".0");
  const std::string reused = path("run/steps.csv.tmp." + std::to_string(getpid()) + ".3");
  const std::string live = path("run/epochs.csv.tmp." + std::to_string(getpid()) + ".4");
  for (const auto& file : {dead, reused, live}) std::ofstream(file) << "partial";
  const utimbuf in_2001{978307200, 978307200};
  ASSERT_EQ(utime(reused.c_str(), &in_2001), 0);

  const CommandResult next = run_maskdet("train --resume " + path("run") + " --epochs 1");
  EXPECT_EQ(next.exit_code, 0) << next.output;
  EXPECT_NE(next.output.find("removed 3 temporary files"), std::string::npos) << next.output;
  for (const auto& file : {temporary, dead, reused}) EXPECT_FALSE(fs::exists(file)) << file;
  EXPECT_TRUE(fs::exists(live)) << "a live writer's temporary was removed";
}

}  // namespace
}  // namespace maskdet::cli_test
