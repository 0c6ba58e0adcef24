// Setting an earlier run aside and putting it back (snapshot_folder.h). Every move is a
// rename(2) inside the folder, so it cannot fail half-way through a file, and the files are
// first gathered in <dir>/.earlier-run.partial and that folder renamed to .earlier-run once they
// are all there: a start killed while moving them is told apart from one killed while training.
#include "apps/maskdet/snapshot_folder.h"

#include <filesystem>
#include <set>
#include <vector>

#include "apps/cli/flags.h"
#include "apps/data/counted.h"
#include "apps/maskdet/snapshot.h"
#include "apps/maskdet/trainer.h"
#include "apps/maskdet/training_log.h"
#include "tensor/error.h"

namespace maskdet::app {

namespace {

namespace fs = std::filesystem;

constexpr const char* kHeld = ".earlier-run";
constexpr const char* kGathering = ".earlier-run.partial";

std::vector<fs::path> run_files(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file() && is_run_file(entry.path().filename().string())) found.push_back(entry.path());
  return found;
}

bool holds_snapshot(const fs::path& dir) {
  for (const auto& file : run_files(dir))
    if (epoch_of(file) >= 0) return true;
  return false;
}

void move(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  MASKDET_CHECK(!ec, "cannot move ", from.string(), " to ", to.string(), ": ", ec.message());
}

// Moves every file of `held` back into `dir` (over the new run's files of the same name) and
// removes `held`; returns how many were moved.
size_t put_back(const fs::path& held, const fs::path& dir) {
  for (const auto& file : run_files(dir)) {
    std::error_code ec;
    fs::remove(file, ec);  // the failed new run's logs: they must not mix with the earlier run's
  }
  size_t moved = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(held, ec)) {
    move(entry.path(), dir / entry.path().filename());
    ++moved;
  }
  fs::remove(held, ec);
  MASKDET_CHECK(!ec, "cannot remove ", held.string(), ": ", ec.message());
  return moved;
}

}  // namespace

bool is_run_file(const std::string& name) {
  static const std::set<std::string> logs = {TrainingLog::kStepsFile, TrainingLog::kEpochsFile,
                                             TrainingLog::kEpochsJsonFile, "training_curves.png",
                                             kTrainSplitFile, kValidationSplitFile};
  return logs.count(name) > 0 || epoch_of(name) >= 0;
}

void recover_snapshot_folder(const std::string& dir, std::ostream& log) {
  std::error_code ec;
  const fs::path gathering = fs::path(dir) / kGathering, held = fs::path(dir) / kHeld;
  if (fs::is_directory(gathering, ec)) {
    const size_t moved = put_back(gathering, dir);
    log << "put back " << data::counted(moved, "file") << " of the earlier run in " << dir
        << " that an interrupted start was setting aside\n";
  }
  if (!fs::is_directory(held, ec)) return;
  if (holds_snapshot(dir)) {
    fs::remove_all(held, ec);
    MASKDET_CHECK(!ec, "cannot remove ", held.string(), ": ", ec.message());
    log << "removed the earlier run set aside in " << held.string() << ": the run that replaced it has a snapshot\n";
    return;
  }
  const size_t moved = put_back(held, dir);
  log << "brought back the earlier run in " << dir << " (" << data::counted(moved, "file")
      << "): the run that was to replace it stopped before its first snapshot\n";
}

void refuse_earlier_run(const std::string& dir, bool overwrite) {
  if (overwrite || !holds_snapshot(dir)) return;
  throw cli::UsageError("maskdet train: --snapshot-path " + dir + " holds the snapshots of an earlier run; go on " +
                        "with it with --resume " + dir + ", replace it with --overwrite (it is kept until the new " +
                        "run has a snapshot of its own), or give another --snapshot-path");
}

EarlierRun::EarlierRun(std::string dir, std::ostream& log) : dir_(std::move(dir)), log_(log) {
  const std::vector<fs::path> files = run_files(dir_);
  if (files.empty()) return;
  const fs::path gathering = fs::path(dir_) / kGathering;
  std::error_code ec;
  fs::create_directory(gathering, ec);
  MASKDET_CHECK(!ec, "cannot create ", gathering.string(), ": ", ec.message());
  for (const auto& file : files) move(file, gathering / file.filename());
  move(gathering, fs::path(dir_) / kHeld);
  holding_ = true;
  log_ << "set the earlier run in " << dir_ << " aside (" << data::counted(files.size(), "file") << ") until this run "
       << "has a snapshot of its own\n";
}

EarlierRun::~EarlierRun() {
  if (!holding_) return;
  try {
    put_back(fs::path(dir_) / kHeld, dir_);
    log_ << "brought back the earlier run in " << dir_ << ": this run ended before its first snapshot\n";
  } catch (const std::exception& e) {
    log_ << "warning: could not bring back the earlier run: " << without_source_locations(e.what())
         << "; the next start in " << dir_ << " tries again\n";
  }
}

void EarlierRun::discard() {
  if (!holding_) return;
  holding_ = false;
  std::error_code ec;
  const fs::path held = fs::path(dir_) / kHeld;
  fs::remove_all(held, ec);
  if (ec) log_ << "warning: could not remove " << held.string() << ": " << ec.message() << "\n";
}

}  // namespace maskdet::app
