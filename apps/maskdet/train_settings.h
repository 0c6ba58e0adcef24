// The settings of a `maskdet train` run, bound to its flags (apps/cli/flags.h), in the spirit of
// keras-retinanet's train.py. A snapshot records every one of them under its flag's name, so
// `--resume`, `evaluate` and `detect` rebuild the same model and preprocessing from the snapshot
// alone. Defaults are a small configuration that trains on a 2-core CPU; docs/RESULTS.md gives
// the full-quality one.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "apps/cli/flags.h"
#include "apps/data/sample_pipeline.h"
#include "retinanet/retinanet.h"

namespace maskdet::app {

struct TrainSettings {
  // ---- data ----
  std::string data;          // VOC folder, devkit, or keras-retinanet CSV
  std::string classes_file;  // CSV class list (or one name per line)
  double val_fraction = 0.2;
  std::string val_annotations;  // a separate validation set instead of the split
  std::string cache;            // prepared cache file: used when it matches the data, else (re)built
  bool skip_bad = false;
  bool random_transform = false;
  int workers = 2;
  // ---- model ----
  std::string backbone = "resnet18";
  std::string weights;  // torchvision ImageNet backbone or full RetinaNet, safetensors
  bool freeze_backbone = false;
  int64_t fpn_channels = 64;
  double image_min_side = 256;
  double image_max_side = 384;
  // "frozen" (FrozenBatchNorm: statistics of the pretrained weights) or "batch" (trained from
  // scratch); "auto" picks frozen when --weights is given, as torchvision does.
  std::string norm = "auto";
  // ---- optimisation ----
  std::string optimizer = "adamw";
  double lr = 1e-3;
  double momentum = 0.9;  // SGD only
  double weight_decay = 1e-4;
  double clip_grad_norm = 10;  // 0: no clipping
  int64_t warmup_steps = 100;
  std::string lr_schedule = "step";  // step: x lr_gamma at each of lr_drop_epochs; cosine: over all epochs
  std::string lr_drop_epochs;        // comma-separated epochs, e.g. "8,11"
  double lr_gamma = 0.1;
  int64_t batch_size = 4;
  int64_t epochs = 10;
  int64_t steps = 0;  // per epoch; 0: one pass over the training images
  uint64_t seed = 1;
  // ---- run ----
  std::string device = "cpu";
  std::string snapshot_path = "snapshots";
  int keep_snapshots = 2;  // newest per-epoch snapshots kept; 0 keeps all
  std::string resume;
  bool overwrite = false;  // a fresh run may replace an earlier run in snapshot_path
  bool no_evaluation = false;
  double score_threshold = 0.5;  // for the per-epoch precision and recall
};

// Binds every setting to its flag.
void bind_train_flags(cli::Flags& flags, TrainSettings& settings);

// The flags a resumed run may not change: they fix the model's architecture and input, or the
// shape of the optimiser state the snapshot holds.
const std::vector<std::string>& fixed_on_resume_flags();

// ResNet depth of --backbone ("resnet50" -> 50); throws for anything else.
int backbone_depth(const std::string& backbone);
bool uses_frozen_batch_norm(const TrainSettings& settings);
std::vector<int64_t> parse_epoch_list(const std::string& text);

// The detector the settings describe, for `classes`.
RetinaNetConfig retinanet_config(const TrainSettings& settings, size_t num_classes);
// Resize without augmentation, as evaluation and detection see images.
data::PipelineOptions inference_pipeline(const TrainSettings& settings);

// Throws cli::UsageError naming the first setting out of range.
void check_train_settings(const TrainSettings& settings);

// Every setting under its flag's name, formatted, as a snapshot records them (--resume and
// --overwrite left out: they say how a run started, not what it is).
std::map<std::string, std::string> settings_record(TrainSettings settings);

// Settings from the name -> value table a snapshot records (unknown names are an error: the
// snapshot comes from another version of maskdet).
TrainSettings settings_from_record(const std::map<std::string, std::string>& record);

}  // namespace maskdet::app
