// Training snapshots: one safetensors file per epoch holding everything a run needs to go on
// exactly where it stopped, and everything `evaluate` and `detect` need to rebuild the model:
//   "model.<key>"       the model's state_dict (parameters and buffers)
//   "optimizer.<key>"   the optimiser's state_dict (layers/optim/optimizer.h)
//   "average.<key>"     with `train --ema`: the moving average of the model's state_dict
//                       (layers/optim/weight_average.h), its update count in the metadata
//   metadata: format "maskdet-snapshot", version, epoch (epochs completed), step (optimiser
//   steps taken), config (JSON object: every train flag's value as a string), classes (JSON
//   array), rng_state (the default generator's state, hex).
// The file is written under a temporary name and renamed (save_safetensors), so a crash or a
// failed run never leaves half a snapshot in place of the last good one.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "layers/module.h"
#include "layers/optim/optimizer.h"
#include "layers/optim/weight_average.h"
#include "tensor/generator.h"

namespace maskdet::app {

struct SnapshotInfo {
  int64_t epoch = 0;  // epochs completed
  int64_t step = 0;   // optimiser steps taken
  std::map<std::string, std::string> config;  // flag name (no dashes) -> value
  std::vector<std::string> classes;
  Generator::State rng_state{};
};

struct Snapshot {
  std::string path;  // the file it was read from
  SnapshotInfo info;
  std::map<std::string, Tensor> model;      // without the "model." prefix
  optim::StateDict optimizer;               // without the "optimizer." prefix
  std::map<std::string, Tensor> average;    // without the "average." prefix; empty without --ema
  int64_t average_updates = 0;
};

// Which of a snapshot's weights a model gets: the optimiser's last ones, or their moving average
// when the snapshot has one (the optimiser's otherwise).
enum class SnapshotWeights { Trained, AverageIfAny };

// `optimizer` and `average` may be null (a model-only file, a run without --ema).
void save_snapshot(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer,
                   const SnapshotInfo& info, const optim::WeightAverage* average = nullptr);

// Throws maskdet::Error naming the file when it is not a maskdet snapshot.
Snapshot load_snapshot(const std::string& path);

// Loads the snapshot's model weights into `model`, built from the snapshot's settings. When they
// do not fit (keys missing or unexpected, other shapes or dtypes: a damaged file, or one from
// another version of maskdet) throws maskdet::Error whose first line names the file and counts
// what differs, the keys listed below it.
void load_snapshot_model(nn::Module& model, const Snapshot& snapshot,
                         SnapshotWeights weights = SnapshotWeights::Trained);

// `path` itself when it is a file; for a folder, its newest epoch snapshot (highest epoch number).
std::string resolve_snapshot(const std::string& path);

// <dir>/epoch_<NNN>.safetensors
std::string snapshot_file(const std::string& dir, int64_t epoch);

// The epoch number of a file named as snapshot_file names them ("epoch_012.safetensors"), or -1.
int64_t epoch_of(const std::filesystem::path& file);

// Deletes all but the newest `keep` epoch snapshots in `dir` (keep 0: none deleted).
void prune_snapshots(const std::string& dir, int keep);

// Deletes the epoch snapshots in `dir` after `epoch`: a run resuming there is about to write its
// own, and the later epochs of the run it resumes must not pass for this run's newest. (A fresh
// run finds none: an earlier run's files are set aside first, snapshot_folder.h.) Returns how
// many were deleted.
int remove_snapshots_after(const std::string& dir, int64_t epoch);

}  // namespace maskdet::app
