// Flags of `maskdet train` and the detector they describe (train_settings.h).
#include "apps/maskdet/train_settings.h"

#include "apps/cli/error_message.h"
#include "apps/data/text_fields.h"

namespace maskdet::app {

void bind_train_flags(cli::Flags& flags, TrainSettings& s) {
  flags.add("--data", s.data, "PATH", "training data: VOC folder (images/ + annotations/), VOC devkit, or CSV");
  flags.add("--classes", s.classes_file, "FILE", "class list for CSV data (name,id per line)");
  flags.add("--val-fraction", s.val_fraction, "F",
            "fraction of the images held out for validation by a fixed split drawn from --seed");
  flags.add("--val-annotations", s.val_annotations, "PATH", "validation set (same formats as --data) instead of the split");
  flags.add("--cache", s.cache, "FILE", "prepared cache of decoded images: used when it matches the data, else built");
  flags.add_switch("--skip-bad", s.skip_bad, "leave out images with bad annotations instead of stopping");
  flags.add_switch("--random-transform", s.random_transform, "augment: flips, crops, rotation, colour, scale jitter");
  flags.add("--workers", s.workers, "N", "background threads preparing batches");
  flags.add_choice("--backbone", s.backbone, {"resnet18", "resnet34", "resnet50", "resnet101"}, "ResNet backbone");
  flags.add("--weights", s.weights, "FILE",
            "initial weights (safetensors): a torchvision ImageNet ResNet or a whole RetinaNet (docs/WEIGHTS.md)");
  flags.add_switch("--freeze-backbone", s.freeze_backbone, "do not train the ResNet (use with --weights)");
  flags.add("--fpn-channels", s.fpn_channels, "N", "width of the feature pyramid and heads (256 in the paper)");
  flags.add("--image-min-side", s.image_min_side, "PX", "images are resized so the shorter side is this long...");
  flags.add("--image-max-side", s.image_max_side, "PX", "...unless the longer side would exceed this");
  flags.add_choice("--norm", s.norm, {"auto", "frozen", "batch"},
                   "backbone norm: frozen statistics (pretrained) or batch norm; auto: frozen with --weights");
  flags.add_choice("--optimizer", s.optimizer, {"sgd", "adamw"}, "optimiser");
  flags.add("--lr", s.lr, "X", "learning rate");
  flags.add("--momentum", s.momentum, "X", "SGD momentum");
  flags.add("--weight-decay", s.weight_decay, "X", "weight decay");
  flags.add("--clip-grad-norm", s.clip_grad_norm, "X", "clip the gradients' global norm to this (0: off)");
  flags.add("--warmup-steps", s.warmup_steps, "N", "linear learning-rate warm-up from 0.001 x lr");
  flags.add_choice("--lr-schedule", s.lr_schedule, {"step", "cosine"},
                   "step: x --lr-gamma at each --lr-drop-epochs; cosine: to 0 over --epochs");
  flags.add("--lr-drop-epochs", s.lr_drop_epochs, "E1,E2", "epochs after which the step schedule drops the lr");
  flags.add("--lr-gamma", s.lr_gamma, "X", "the step schedule's factor");
  flags.add("--batch-size", s.batch_size, "N", "images per step");
  flags.add("--epochs", s.epochs, "N", "epochs to train (a resumed run trains up to this many in all)");
  flags.add("--steps", s.steps, "N", "steps per epoch (0: one pass over the training images)");
  flags.add("--seed", s.seed, "N", "seeds the initialisation, the data order, the augmentation and the split");
  flags.add("--device", s.device, "cpu|cuda", "where to train");
  flags.add("--snapshot-path", s.snapshot_path, "DIR", "snapshots and the training logs go here");
  flags.add("--keep-snapshots", s.keep_snapshots, "N", "newest epoch snapshots to keep (0: all)");
  flags.add("--resume", s.resume, "FILE|DIR", "continue the run of this snapshot (a folder: its newest)");
  flags.add_switch("--overwrite", s.overwrite,
                   "a new run may replace the run in --snapshot-path (deleted once this run has a snapshot)");
  flags.add_switch("--no-evaluation", s.no_evaluation, "skip the validation after each epoch");
  flags.add("--score-threshold", s.score_threshold, "X", "score at which validation counts precision and recall");
}

const std::vector<std::string>& fixed_on_resume_flags() {
  // The optimiser's hyper-parameters come back with its state, so changing them would do nothing.
  static const std::vector<std::string> names = {"backbone",     "fpn-channels", "norm",     "image-min-side",
                                                 "image-max-side", "optimizer",  "freeze-backbone", "lr",
                                                 "momentum",     "weight-decay"};
  return names;
}

int backbone_depth(const std::string& backbone) {
  for (const int depth : {18, 34, 50, 101})
    if (backbone == "resnet" + std::to_string(depth)) return depth;
  MASKDET_FAIL("unknown backbone '", backbone, "' (resnet18, resnet34, resnet50 or resnet101)");
}

bool uses_frozen_batch_norm(const TrainSettings& s) {
  return s.norm == "frozen" || (s.norm == "auto" && !s.weights.empty());
}

std::vector<int64_t> parse_epoch_list(const std::string& text) {
  std::vector<int64_t> epochs;
  if (data::trim(text).empty()) return epochs;
  const auto fields = data::split_csv_line(text);
  MASKDET_CHECK(fields.has_value(), "bad epoch list '", text, "'");
  for (const auto& field : *fields) {
    const auto epoch = data::parse_integer(field);
    MASKDET_CHECK(epoch && *epoch > 0 && (epochs.empty() || *epoch > epochs.back()), "epoch list '", text,
                  "' must hold increasing whole numbers > 0");
    epochs.push_back(*epoch);
  }
  return epochs;
}

RetinaNetConfig retinanet_config(const TrainSettings& s, size_t num_classes) {
  RetinaNetConfig config;
  config.backbone.depth = backbone_depth(s.backbone);
  config.backbone.norm = uses_frozen_batch_norm(s) ? NormLayer::FrozenBatchNorm : NormLayer::BatchNorm;
  config.num_classes = static_cast<int64_t>(num_classes);
  config.fpn_channels = s.fpn_channels;
  return config;
}

data::PipelineOptions inference_pipeline(const TrainSettings& s) {
  data::PipelineOptions options;
  options.min_side = s.image_min_side;
  options.max_side = s.image_max_side;
  return options;
}

void check_train_settings(const TrainSettings& s) {
  auto require = [](bool ok, const std::string& message) {
    if (!ok) throw cli::UsageError("maskdet train: " + message);
  };
  require(!s.data.empty(), "--data PATH is required");
  require(s.val_fraction >= 0 && s.val_fraction < 1, "--val-fraction must be in [0, 1)");
  require(s.workers >= 0, "--workers must be >= 0");
  require(s.fpn_channels > 0, "--fpn-channels must be > 0");
  require(s.image_min_side >= 32 && s.image_max_side >= s.image_min_side,
          "--image-min-side must be >= 32 and --image-max-side >= --image-min-side");
  require(s.lr > 0, "--lr must be > 0");
  require(s.momentum >= 0 && s.momentum < 1, "--momentum must be in [0, 1)");
  require(s.weight_decay >= 0, "--weight-decay must be >= 0");
  require(s.clip_grad_norm >= 0, "--clip-grad-norm must be >= 0");
  require(s.warmup_steps >= 0, "--warmup-steps must be >= 0");
  require(s.lr_gamma > 0, "--lr-gamma must be > 0");
  require(s.batch_size > 0, "--batch-size must be > 0");
  require(s.epochs > 0, "--epochs must be > 0");
  require(s.steps >= 0, "--steps must be >= 0");
  require(s.keep_snapshots >= 0, "--keep-snapshots must be >= 0");
  require(s.score_threshold >= 0 && s.score_threshold <= 1, "--score-threshold must be in [0, 1]");
  try {
    parse_epoch_list(s.lr_drop_epochs);
    parse_device(s.device);
  } catch (const std::exception& e) {
    require(false, cli::without_source_location(e.what()));
  }
  require(!s.freeze_backbone || !s.weights.empty() || !s.resume.empty(),
          "--freeze-backbone without --weights would freeze a randomly initialised ResNet");
}

std::map<std::string, std::string> settings_record(TrainSettings settings) {
  settings.resume.clear();
  settings.overwrite = false;
  cli::Flags flags("snapshot", "");
  bind_train_flags(flags, settings);
  return flags.values();
}

TrainSettings settings_from_record(const std::map<std::string, std::string>& record) {
  TrainSettings settings;
  cli::Flags flags("snapshot", "");
  bind_train_flags(flags, settings);
  for (const auto& [name, value] : record) flags.set(name, value);
  return settings;
}

}  // namespace maskdet::app
