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
  std::string scale_jitter = "0.8,1.2";  // --random-transform's factor on the resize sides: min,max
  double zoom_out = 0;                   // --random-transform's zoom-out probability
  double zoom_out_max = 3;               // its largest canvas side / image side
  double crop_min_fraction = 0.6;        // --random-transform's crops keep at least this of each side
  int workers = 2;
  // ---- model ----
  std::string backbone = "mobilenet_v2";
  // "auto": "imagenet" for mobilenet_v2 (torchvision's ImageNet file, fetched once into the user's
  // cache by scripts/fetch-weights.sh), "none" for the ResNets (no hub can be reached for theirs);
  // or a safetensors file: a torchvision ImageNet backbone, a whole RetinaNet, a maskdet snapshot.
  std::string weights = "auto";
  bool freeze_backbone = false;
  // Backbone stages trained, from the output side, as torchvision's trainable_backbone_layers
  // (ResNet: 0-5, MobileNetV2: 0-6); -1: torchvision's default, 3 from pretrained weights, all
  // of them from random ones. --freeze-backbone is 0.
  int64_t trainable_backbone_layers = -1;
  int64_t fpn_channels = 64;
  int64_t head_depth = 4;  // conv layers of each subnet before its predictor (4 in the paper)
  bool head_group_norm = false;  // GroupNorm(32) in the head's tower, as torchvision's retinanet_resnet50_fpn_v2
  // Base anchor size of P3..P7 (each with scales 2^0, 2^(1/3), 2^(2/3) and ratios 0.5, 1, 2).
  std::string anchor_sizes = "32,64,128,256,512";
  double image_min_side = 256;
  double image_max_side = 384;
  // The size evaluation and detection resize to (and the per-epoch validation); 0: the training
  // sides. `maskdet evaluate` and `detect` override it with their own --image-min/max-side.
  double inference_min_side = 0;
  double inference_max_side = 0;
  // "frozen" (FrozenBatchNorm: statistics of the pretrained weights) or "batch" (trained from
  // scratch); "auto" picks frozen when --weights is given, as torchvision does.
  std::string norm = "auto";
  // Data-parallel runs: batch norm's statistics over the global batch instead of each rank's
  // shard (torch.nn.SyncBatchNorm); nothing to do for frozen batch norm.
  bool sync_bn = false;
  // ---- optimisation ----
  std::string optimizer = "adamw";
  double lr = 1e-3;
  double backbone_lr_factor = 1;  // the backbone's lr is lr x this
  double momentum = 0.9;  // SGD only
  double weight_decay = 1e-4;
  double clip_grad_norm = 10;  // 0: no clipping
  // Decay of the weights' moving average (layers/optim/weight_average.h) that validation,
  // snapshots and the programs reading them use; 0: none.
  double ema = 0;
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
  double dist_timeout = 300;  // seconds a data-parallel collective or the rendezvous may wait
};

// Binds every setting to its flag.
void bind_train_flags(cli::Flags& flags, TrainSettings& settings);

// The flags a resumed run may not change: they fix the model's architecture and input, or the
// shape of the optimiser state the snapshot holds.
const std::vector<std::string>& fixed_on_resume_flags();

// The architecture --backbone names ("resnet50" -> ResNet, depth 50; "mobilenet_v2"); throws for
// anything else.
BackboneConfig backbone_config(const std::string& backbone);
const std::vector<std::string>& backbone_names();
// --weights with "auto" resolved: "none", "imagenet" or a file.
std::string initial_weights(const TrainSettings& settings);
bool uses_frozen_batch_norm(const TrainSettings& settings);
// --trainable-backbone-layers with -1 and --freeze-backbone resolved, for `stages` stages.
int64_t trainable_backbone_stages(const TrainSettings& settings, int64_t stages);
std::vector<int64_t> parse_epoch_list(const std::string& text);
// --anchor-sizes: five increasing positive numbers.
std::vector<double> parse_anchor_sizes(const std::string& text);

// The detector the settings describe, for `classes`.
RetinaNetConfig retinanet_config(const TrainSettings& settings, size_t num_classes);
// The augmentation --random-transform applies, with the settings' scale jitter and zoom out.
data::RandomTransformOptions augmentation(const TrainSettings& settings);
// Resize without augmentation to the inference size, as evaluation and detection see images.
data::PipelineOptions inference_pipeline(const TrainSettings& settings);
// What `evaluate` and `detect` do with their --image-min-side / --image-max-side (0: keep the
// snapshot's inference size). Throws cli::UsageError for a size out of range.
void override_inference_size(TrainSettings& settings, double min_side, double max_side);

// Throws cli::UsageError naming the first setting out of range.
void check_train_settings(const TrainSettings& settings);

// Every setting under its flag's name, formatted, as a snapshot records them (--resume and
// --overwrite left out: they say how a run started, not what it is).
std::map<std::string, std::string> settings_record(TrainSettings settings);

// Settings from the name -> value table a snapshot records (unknown names are an error: the
// snapshot comes from another version of maskdet).
TrainSettings settings_from_record(const std::map<std::string, std::string>& record);

}  // namespace maskdet::app
