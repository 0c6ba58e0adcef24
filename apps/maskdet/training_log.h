// The training logs `maskdet train` keeps in its snapshot folder, appended as it goes:
//   steps.csv     epoch,step,loss,classification,regression,lr — one row per optimiser step
//   epochs.csv    one row per epoch: mean losses, lr, time, throughput and the validation figures
//                 (val_map50, val_map, val_precision, val_recall, ap50_<class>...)
//   epochs.jsonl  the same epochs as JSON lines, with every class's figures
// Times live only in the epoch logs, so the step log of a resumed run is byte for byte the
// uninterrupted run's. On resume every row after the snapshot's epoch is dropped first: those
// steps are about to be trained again.
#pragma once
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "apps/eval/detection_eval.h"
#include "apps/eval/report_plots.h"

namespace maskdet::app {

struct LossValues {
  double total = 0, classification = 0, regression = 0;
};

struct EpochRecord {
  int64_t epoch = 0;  // 1-based: the epoch just completed
  int64_t step = 0;   // optimiser steps taken by its end
  LossValues mean_loss;
  double lr = 0;  // at the epoch's last step
  double seconds = 0;
  double images_per_second = 0;
  std::optional<eval::EvalResult> validation;
};

class TrainingLog {
 public:
  // keep_through_epoch: rows of later epochs are removed (a resumed run); -1 starts afresh.
  TrainingLog(const std::string& dir, std::vector<std::string> classes, int64_t keep_through_epoch);

  void log_step(int64_t epoch, int64_t step, const LossValues& loss, double lr);
  void log_epoch(const EpochRecord& record);

  // Loss per step and mAP per epoch, as logged in `dir`, for the training curves figure.
  static eval::TrainingCurves read_curves(const std::string& dir);

  static constexpr const char* kStepsFile = "steps.csv";
  static constexpr const char* kEpochsFile = "epochs.csv";
  static constexpr const char* kEpochsJsonFile = "epochs.jsonl";

 private:
  std::string path(const char* file) const;
  std::string dir_;
  std::vector<std::string> classes_;
  std::ofstream steps_, epochs_, epochs_json_;
};

}  // namespace maskdet::app
