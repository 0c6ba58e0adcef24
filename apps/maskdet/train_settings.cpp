// Flags of `maskdet train` and the detector they describe (train_settings.h).
#include "apps/maskdet/train_settings.h"

#include <algorithm>

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
  flags.add("--scale-jitter", s.scale_jitter, "MIN,MAX", "--random-transform scales the resize sides by a factor from this range");
  flags.add("--zoom-out", s.zoom_out, "P",
            "--random-transform places the image on a larger canvas with this probability (smaller faces)");
  flags.add("--zoom-out-max", s.zoom_out_max, "R", "the zoom-out canvas is up to R times the image's side");
  flags.add("--crop-min-fraction", s.crop_min_fraction, "F",
            "--random-transform's crops keep at least this fraction of each side (smaller: faces, and parts of "
            "them, seen larger)");
  flags.add("--workers", s.workers, "N", "background threads preparing batches");
  flags.add_choice("--backbone", s.backbone, backbone_names(), "backbone network");
  flags.add("--weights", s.weights, "auto|imagenet|none|FILE",
            "initial weights: imagenet (torchvision's MobileNetV2, fetched once into ~/.cache/maskdet), none "
            "(random), or a safetensors file: torchvision ImageNet backbone, whole RetinaNet, maskdet snapshot "
            "(docs/WEIGHTS.md); auto: imagenet for mobilenet_v2, none for the ResNets");
  flags.add_switch("--freeze-backbone", s.freeze_backbone, "do not train the backbone (--trainable-backbone-layers 0)");
  flags.add("--trainable-backbone-layers", s.trainable_backbone_layers, "N",
            "backbone stages trained, counted from the output (ResNet 0-5, MobileNetV2 0-6); the others are "
            "frozen. -1: 3 with pretrained weights, all without (torchvision's defaults)");
  flags.add("--fpn-channels", s.fpn_channels, "N", "width of the feature pyramid and heads (256 in the paper)");
  flags.add("--head-depth", s.head_depth, "N", "conv layers of each head subnet before its predictor (4 in the paper)");
  flags.add_switch("--head-group-norm", s.head_group_norm, "GroupNorm(32) after each head conv (torchvision's v2 heads)");
  flags.add("--anchor-sizes", s.anchor_sizes, "S3,...,S7",
            "base anchor size on P3..P7 in input pixels, each with 3 scales and 3 ratios (paper: 32,...,512)");
  flags.add("--image-min-side", s.image_min_side, "PX", "images are resized so the shorter side is this long...");
  flags.add("--image-max-side", s.image_max_side, "PX", "...unless the longer side would exceed this");
  flags.add("--inference-min-side", s.inference_min_side, "PX",
            "validation, evaluation and detection resize to this shorter side (0: --image-min-side)");
  flags.add("--inference-max-side", s.inference_max_side, "PX", "...and at most this longer side (0: --image-max-side)");
  flags.add_choice("--norm", s.norm, {"auto", "frozen", "batch"},
                   "backbone norm: frozen statistics (pretrained) or batch norm; auto: frozen with --weights");
  flags.add_switch("--sync-bn", s.sync_bn,
                   "data-parallel runs with --norm batch: batch norm's statistics over the whole global batch "
                   "(as torch.nn.SyncBatchNorm) instead of each rank's shard");
  flags.add_choice("--optimizer", s.optimizer, {"sgd", "adamw"}, "optimiser");
  flags.add("--lr", s.lr, "X", "learning rate");
  flags.add("--backbone-lr-factor", s.backbone_lr_factor, "X", "the backbone learns at lr x this (pretrained: < 1)");
  flags.add("--momentum", s.momentum, "X", "SGD momentum");
  flags.add("--weight-decay", s.weight_decay, "X", "weight decay");
  flags.add("--clip-grad-norm", s.clip_grad_norm, "X", "clip the gradients' global norm to this (0: off)");
  flags.add("--ema", s.ema, "DECAY",
            "keep a moving average of the weights with this decay (e.g. 0.999; its warm-up is min(DECAY, "
            "(1+n)/(10+n))): validation, evaluate, detect, serve and export use it (0: off)");
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
  flags.add("--dist-timeout", s.dist_timeout, "S",
            "data-parallel runs (docs/DISTRIBUTED.md): seconds the rendezvous or a collective waits for the other "
            "ranks before the run stops with an error");
}

const std::vector<std::string>& fixed_on_resume_flags() {
  // The optimiser's hyper-parameters come back with its state, so changing them would do nothing.
  static const std::vector<std::string> names = {
      "backbone",  "fpn-channels", "head-depth", "head-group-norm", "anchor-sizes", "norm",     "image-min-side", "image-max-side", "optimizer", "freeze-backbone",
      "trainable-backbone-layers", "lr", "backbone-lr-factor", "momentum", "weight-decay"};
  return names;
}

const std::vector<std::string>& backbone_names() {
  static const std::vector<std::string> names = {"mobilenet_v2", "resnet18", "resnet34", "resnet50", "resnet101"};
  return names;
}

BackboneConfig backbone_config(const std::string& backbone) {
  if (backbone == "mobilenet_v2") return {.arch = BackboneArch::MobileNetV2};
  for (const int depth : {18, 34, 50, 101})
    if (backbone == "resnet" + std::to_string(depth)) return {.depth = depth, .arch = BackboneArch::ResNet};
  MASKDET_FAIL("unknown backbone '", backbone, "' (mobilenet_v2, resnet18, resnet34, resnet50 or resnet101)");
}

std::string initial_weights(const TrainSettings& s) {
  // Snapshots of earlier versions record no weights as "".
  if (s.weights.empty()) return "none";
  if (s.weights != "auto") return s.weights;
  return s.backbone == "mobilenet_v2" ? "imagenet" : "none";
}

bool uses_frozen_batch_norm(const TrainSettings& s) {
  return s.norm == "frozen" || (s.norm == "auto" && initial_weights(s) != "none");
}

int64_t trainable_backbone_stages(const TrainSettings& s, int64_t stages) {
  if (s.freeze_backbone) return 0;
  if (s.trainable_backbone_layers >= 0) return std::min(s.trainable_backbone_layers, stages);
  return initial_weights(s) == "none" ? stages : std::min<int64_t>(3, stages);
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

std::vector<double> parse_anchor_sizes(const std::string& text) {
  const auto fields = data::split_csv_line(text);
  std::vector<double> sizes;
  bool increasing = fields.has_value();
  for (const auto& field : fields.value_or(std::vector<std::string>{})) {
    const auto size = data::parse_number(field);
    increasing = increasing && size && *size > 0 && (sizes.empty() || *size > sizes.back());
    sizes.push_back(size.value_or(0));
  }
  MASKDET_CHECK(increasing && sizes.size() == 5, "--anchor-sizes '", text,
                "' must be five increasing sizes > 0, one per level P3..P7");
  return sizes;
}

RetinaNetConfig retinanet_config(const TrainSettings& s, size_t num_classes) {
  RetinaNetConfig config;
  config.backbone = backbone_config(s.backbone);
  config.backbone.norm = uses_frozen_batch_norm(s) ? NormLayer::FrozenBatchNorm : NormLayer::BatchNorm;
  config.num_classes = static_cast<int64_t>(num_classes);
  config.fpn_channels = s.fpn_channels;
  config.head_depth = s.head_depth;
  config.head_group_norm = s.head_group_norm;
  config.anchors = torchvision_anchor_config(parse_anchor_sizes(s.anchor_sizes));
  return config;
}

data::RandomTransformOptions augmentation(const TrainSettings& s) {
  data::RandomTransformOptions options;
  const auto fields = data::split_csv_line(s.scale_jitter);
  const auto lo = fields && fields->size() == 2 ? data::parse_number((*fields)[0]) : std::nullopt;
  const auto hi = fields && fields->size() == 2 ? data::parse_number((*fields)[1]) : std::nullopt;
  MASKDET_CHECK(lo && hi && *lo > 0 && *hi >= *lo, "--scale-jitter '", s.scale_jitter,
                "' must be two factors MIN,MAX with 0 < MIN <= MAX");
  options.scale_jitter_min = *lo;
  options.scale_jitter_max = *hi;
  options.zoom_out_probability = s.zoom_out;
  options.zoom_out_max_ratio = s.zoom_out_max;
  options.crop_min_fraction = s.crop_min_fraction;
  return options;
}

data::PipelineOptions inference_pipeline(const TrainSettings& s) {
  data::PipelineOptions options;
  options.min_side = s.inference_min_side > 0 ? s.inference_min_side : s.image_min_side;
  options.max_side = s.inference_max_side > 0 ? s.inference_max_side : s.image_max_side;
  return options;
}

void override_inference_size(TrainSettings& s, double min_side, double max_side) {
  if (min_side > 0) s.inference_min_side = min_side;
  if (max_side > 0) s.inference_max_side = max_side;
  const data::PipelineOptions size = inference_pipeline(s);
  if (!(size.min_side >= 32 && size.max_side >= size.min_side))
    throw cli::UsageError("the inference size must have --image-min-side >= 32 and --image-max-side >= it, got " +
                          std::to_string(size.min_side) + " and " + std::to_string(size.max_side));
}

void check_train_settings(const TrainSettings& s) {
  auto require = [](bool ok, const std::string& message) {
    if (!ok) throw cli::UsageError("maskdet train: " + message);
  };
  require(!s.data.empty(), "--data PATH is required");
  require(s.val_fraction >= 0 && s.val_fraction < 1, "--val-fraction must be in [0, 1)");
  require(s.workers >= 0, "--workers must be >= 0");
  require(s.fpn_channels > 0, "--fpn-channels must be > 0");
  require(s.head_depth >= 0, "--head-depth must be >= 0");
  require(!s.head_group_norm || s.fpn_channels % 32 == 0, "--head-group-norm needs --fpn-channels divisible by 32");
  require(s.zoom_out >= 0 && s.zoom_out <= 1, "--zoom-out must be a probability in [0, 1]");
  require(s.zoom_out_max >= 1, "--zoom-out-max must be >= 1");
  require(s.crop_min_fraction > 0 && s.crop_min_fraction <= 1, "--crop-min-fraction must be in (0, 1]");
  require(s.image_min_side >= 32 && s.image_max_side >= s.image_min_side,
          "--image-min-side must be >= 32 and --image-max-side >= --image-min-side");
  require(s.inference_min_side >= 0 && s.inference_max_side >= 0, "--inference-min/max-side must be >= 0");
  const data::PipelineOptions inference = inference_pipeline(s);
  require(inference.min_side >= 32 && inference.max_side >= inference.min_side,
          "the inference size must have a shorter side >= 32 and a longer side >= it");
  require(s.lr > 0, "--lr must be > 0");
  require(s.backbone_lr_factor > 0, "--backbone-lr-factor must be > 0");
  require(s.momentum >= 0 && s.momentum < 1, "--momentum must be in [0, 1)");
  require(s.weight_decay >= 0, "--weight-decay must be >= 0");
  require(s.clip_grad_norm >= 0, "--clip-grad-norm must be >= 0");
  require(s.ema >= 0 && s.ema < 1, "--ema must be in [0, 1)");
  require(s.warmup_steps >= 0, "--warmup-steps must be >= 0");
  require(s.lr_gamma > 0, "--lr-gamma must be > 0");
  require(s.batch_size > 0, "--batch-size must be > 0");
  require(s.epochs > 0, "--epochs must be > 0");
  require(s.steps >= 0, "--steps must be >= 0");
  require(s.keep_snapshots >= 0, "--keep-snapshots must be >= 0");
  require(s.score_threshold >= 0 && s.score_threshold <= 1, "--score-threshold must be in [0, 1]");
  require(s.dist_timeout > 0, "--dist-timeout must be > 0 seconds");
  try {
    parse_epoch_list(s.lr_drop_epochs);
    parse_anchor_sizes(s.anchor_sizes);
    augmentation(s);
    parse_device(s.device);
  } catch (const std::exception& e) {
    require(false, cli::without_source_location(e.what()));
  }
  require(s.trainable_backbone_layers >= -1, "--trainable-backbone-layers must be >= 0 (or -1: the default)");
  const int64_t max_stages = s.backbone == "mobilenet_v2" ? 6 : 5;
  require(s.trainable_backbone_layers <= max_stages,
          "--trainable-backbone-layers must be at most " + std::to_string(max_stages) + " for " + s.backbone);
  require(!(s.freeze_backbone && s.trainable_backbone_layers > 0),
          "--freeze-backbone and --trainable-backbone-layers > 0 contradict each other");
  require(s.backbone == "mobilenet_v2" || initial_weights(s) != "imagenet",
          "--weights imagenet is torchvision's MobileNetV2 (--backbone mobilenet_v2); for a ResNet give a converted "
          "file (docs/WEIGHTS.md) or --weights none");
  const bool frozen_stages = s.freeze_backbone || (s.trainable_backbone_layers >= 0 &&
                                                   s.trainable_backbone_layers < max_stages);
  require(!frozen_stages || initial_weights(s) != "none" || !s.resume.empty(),
          "freezing backbone layers without --weights would freeze randomly initialised ones");
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
