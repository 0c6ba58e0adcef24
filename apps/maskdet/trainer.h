// The training loop of `maskdet train`: epochs of --steps optimiser steps over batches from the
// threaded, seeded loader; the focal and box losses, gradient clipping and the learning-rate
// schedule; with --ema the weights' moving average after every step; after each epoch a
// validation pass (of the average, where there is one), the logs, the training-curves figure and a
// snapshot. Everything a step depends on (weights, optimiser state, average, step count, data order) is
// in the snapshot or derived from the seed, so a resumed run repeats the uninterrupted run's
// losses exactly. A loss or gradient norm that is not finite stops the run before its update
// reaches any snapshot.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apps/dist/process_group.h"
#include "apps/maskdet/data_sets.h"
#include "apps/maskdet/snapshot.h"
#include "apps/maskdet/train_settings.h"
#include "apps/maskdet/training_step.h"
#include "retinanet/retinanet.h"

namespace maskdet::app {

// The split a run trained on, written into its snapshot folder: one image path a line.
constexpr const char* kTrainSplitFile = "train_images.txt";
constexpr const char* kValidationSplitFile = "val_images.txt";

struct TrainerState {
  int64_t epoch = 0;  // epochs completed
  int64_t step = 0;   // optimiser steps taken
  std::string last_snapshot;  // empty until one exists
};

// Trains `model` (already initialised or restored) from `state` up to settings.epochs.
// `resume`: the snapshot's optimiser state to restore, or null for a new run. `record`: the
// settings to store in snapshots (flag name -> value). `after_snapshot` (may be empty) is called
// each time a snapshot is in place.
//
// Data-parallel when `group` has several ranks (docs/DISTRIBUTED.md): every rank calls train with
// the same settings and data; rank 0's weights and optimiser state are copied to the others
// first; each rank takes its shard of every global batch (--batch-size stays the global batch)
// and the gradients are summed over the ranks, so a step equals the single-process step on the
// global batch. Validation is sharded by batches and its detections gathered, so its figures are
// the single-process ones. Only rank 0 writes snapshots, logs and progress; the replicas are
// checked equal (a checksum all-gather) at every snapshot.
TrainerState train(RetinaNet& model, const TrainSettings& settings, const std::map<std::string, std::string>& record,
                   const TrainingData& data, TrainerState state, const Snapshot* resume, dist::ProcessGroup& group,
                   const std::function<void()>& after_snapshot = {});

}  // namespace maskdet::app
