// What `maskdet train` may do to a snapshot folder that already holds a run. An earlier run's
// snapshots are hours of work, so a fresh run refuses such a folder unless --overwrite says the
// earlier run may go; and even then nothing of it is deleted before the new run has written a
// snapshot of its own. Until then the earlier run's files (its snapshots and logs) wait in
// <dir>/.earlier-run: a new run that fails first (bad data, divergence) puts them back at once,
// and one killed outright is put right by the next start in that folder (recover_snapshot_folder).
// Other files in the folder are never touched.
#pragma once
#include <ostream>
#include <string>

namespace maskdet::app {

// Whether a file of this name is one `maskdet train` writes into its snapshot folder: an epoch
// snapshot, one of the logs (training_log.h), the training-curves figure or the split lists
// (trainer.h).
bool is_run_file(const std::string& name);

// Puts right what a start interrupted between setting an earlier run aside and its own first
// snapshot left: the earlier run back in place when the new run has no snapshot, else the earlier
// run removed. Says what it did on `log`. Nothing to do in a folder without <dir>/.earlier-run.
void recover_snapshot_folder(const std::string& dir, std::ostream& log);

// Throws cli::UsageError naming the folder and the ways on (--resume, --overwrite, another
// --snapshot-path) when `dir` holds epoch snapshots and `overwrite` is false.
void refuse_earlier_run(const std::string& dir, bool overwrite);

// An earlier run's files, set aside while a fresh run gets its first snapshot.
class EarlierRun {
 public:
  // Moves the run files of `dir` into <dir>/.earlier-run (nothing when there are none).
  EarlierRun(std::string dir, std::ostream& log);
  // Puts them back unless discard() was called: the new run ended without a snapshot.
  ~EarlierRun();
  EarlierRun(const EarlierRun&) = delete;
  EarlierRun& operator=(const EarlierRun&) = delete;

  // The new run has written a snapshot: the earlier run's files are deleted.
  void discard();

 private:
  std::string dir_;
  std::ostream& log_;
  bool holding_ = false;
};

}  // namespace maskdet::app
