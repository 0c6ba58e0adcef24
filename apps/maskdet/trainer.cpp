// The training loop (trainer.h).
#include "apps/maskdet/trainer.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "apps/data/counted.h"
#include "apps/data/data_loader.h"
#include "apps/dist/data_parallel.h"
#include "apps/eval/report_plots.h"
#include "apps/maskdet/png_file.h"
#include "apps/maskdet/progress_bar.h"
#include "apps/maskdet/training_log.h"
#include "apps/maskdet/validation.h"
#include "layers/batch_norm.h"
#include "layers/optim/lr_schedule.h"
#include "layers/optim/weight_average.h"
#include "tensor/atomic_file.h"
#include "tensor/creation.h"

namespace maskdet::app {

namespace {

namespace fs = std::filesystem;

// The warm-up starts at this fraction of the lr (torchvision's detection reference: 0.001).
constexpr double kWarmupStartFactor = 1e-3;

optim::LrSchedule make_schedule(const TrainSettings& s, int64_t steps_per_epoch) {
  const optim::LinearWarmup warmup{s.warmup_steps, kWarmupStartFactor};
  if (s.lr_schedule == "cosine") return optim::LrSchedule(warmup, optim::CosineDecay{s.epochs * steps_per_epoch, 0});
  std::vector<int64_t> milestones;
  for (const int64_t epoch : parse_epoch_list(s.lr_drop_epochs)) milestones.push_back(epoch * steps_per_epoch);
  return optim::LrSchedule(warmup, optim::MultiStepDecay{milestones, s.lr_gamma});
}

// Training mode, except a frozen backbone, whose batch norms must keep their statistics.
void set_training_mode(RetinaNet& model, const TrainSettings& s) {
  model.train();
  if (s.freeze_backbone) model.body()->eval();
}

std::string describe_losses(const LossValues& loss) {
  char buffer[128];
  std::snprintf(buffer, sizeof buffer, "loss %.4f (classification %.4f, regression %.4f)", loss.total,
                loss.classification, loss.regression);
  return buffer;
}

std::string describe_validation(const eval::EvalResult& r) {
  auto figure = [](const std::optional<double>& v) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%.3f", v.value_or(std::nan("")));
    return v ? std::string(buffer) : std::string("n/a");
  };
  std::string text = "val mAP@0.5 " + figure(r.map50) + " [";
  for (size_t c = 0; c < r.per_class.size(); ++c)
    text += (c ? ", " : "") + r.per_class[c].name + " " + figure(r.per_class[c].ap50);
  return text + "]  mAP@[.5:.95] " + figure(r.map);
}

// Draws the figure from the logs; a failure here must not end a training run.
void update_curves_figure(const std::string& dir) {
  try {
    save_png((fs::path(dir) / "training_curves.png").string(),
             eval::training_curves_figure(TrainingLog::read_curves(dir)));
  } catch (const std::exception& e) {
    std::cerr << "warning: could not draw the training curves: " << without_source_locations(e.what()) << "\n";
  }
}

[[noreturn]] void diverged(const char* what, double value, int64_t epoch, int64_t step_in_epoch, int64_t step,
                           const LossValues& loss, const TrainerState& state) {
  // printf spells a negative NaN "-nan", which reads like a sign that means something.
  auto text = [](double v) {
    char number[32];
    std::snprintf(number, sizeof number, "%g", v);
    return std::isnan(v) ? std::string("nan") : std::string(number);
  };
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, "%s is %s at epoch %lld, step %lld (optimiser step %lld; classification %s, "
                "regression %s). ",
                what, text(value).c_str(), static_cast<long long>(epoch), static_cast<long long>(step_in_epoch),
                static_cast<long long>(step), text(loss.classification).c_str(), text(loss.regression).c_str());
  std::string message = std::string("training diverged: ") + buffer +
                        "Stopped before this update reached a snapshot; " +
                        (state.last_snapshot.empty() ? std::string("no snapshot had been written yet")
                                                     : "the last good snapshot is " + state.last_snapshot) +
                        ". Try a lower --lr, a longer --warmup-steps or --clip-grad-norm.";
  throw DivergedError(message);
}

// Which images trained and which were held out, one path a line, so other tools (and the torchvision
// reference run, tools/train_torchvision_retinanet.py) can use the same split.
void write_split_lists(const std::string& dir, const TrainingData& data) {
  for (const auto& [name, set] : {std::pair{kTrainSplitFile, &data.train}, {kValidationSplitFile, &data.validation}}) {
    std::string list;
    for (const auto& image : set->images) list += image.image_path + "\n";
    write_file_atomically((fs::path(dir) / name).string(), list);
  }
}

// Everything that must be equal on every rank: the weights, the buffers (batch-norm statistics)
// and the optimiser's state.
std::vector<Tensor> replica_state(const RetinaNet& model, const optim::StateDict& optimizer_state) {
  std::vector<Tensor> tensors = model.parameters();
  for (const auto& [name, buffer] : model.named_buffers()) tensors.push_back(buffer);
  for (const auto& [name, value] : optimizer_state) tensors.push_back(value);
  return tensors;
}

// Rank 0's weights, buffers and optimiser state on every rank. The optimiser's state is only
// copied when its layout (names and shapes) is the same everywhere, which it is when every
// rank restored the same snapshot or none.
void start_replicas_equal(dist::ProcessGroup& group, RetinaNet& model, optim::Optimizer& optimizer) {
  dist::broadcast_tensors(group, replica_state(model, {}), "rank 0's weights");
  optim::StateDict optimizer_state = optimizer.state_dict();
  std::vector<Tensor> layout, values;
  for (const auto& [name, value] : optimizer_state) {
    values.push_back(value);
    layout.push_back(from_vector(std::vector<int64_t>(name.begin(), name.end()), {static_cast<int64_t>(name.size())},
                                 TensorOptions{}.with_dtype(DType::Int64)));
    layout.push_back(from_vector(std::vector<int64_t>(value.shape().begin(), value.shape().end()),
                                 {static_cast<int64_t>(value.shape().size())}, TensorOptions{}.with_dtype(DType::Int64)));
  }
  dist::check_replicas_agree(group, layout, "optimiser state layouts");
  dist::broadcast_tensors(group, values, "rank 0's optimiser state");
  optimizer.load_state_dict(optimizer_state);
  dist::check_replicas_agree(group, replica_state(model, optimizer.state_dict()), "weights and optimiser state");
}

}  // namespace

TrainerState train(RetinaNet& model, const TrainSettings& s, const std::map<std::string, std::string>& record,
                   const TrainingData& data, TrainerState state, const Snapshot* resume, dist::ProcessGroup& group,
                   const std::function<void()>& after_snapshot) {
  const bool leader = group.is_leader();
  const bool parallel = group.world_size() > 1;
  const Device device = parse_device(s.device);
  const std::vector<Tensor> params = trainable_parameters(model);
  MASKDET_CHECK(!params.empty(), "nothing to train: every parameter is frozen");
  std::unique_ptr<optim::Optimizer> optimizer = make_optimizer(s, model);
  if (resume) optimizer->load_state_dict(resume->optimizer);
  if (parallel) start_replicas_equal(group, model, *optimizer);
  // --ema: the weights' moving average, from the snapshot's when it has one.
  std::optional<optim::WeightAverage> average;
  if (s.ema > 0) {
    average.emplace(model, s.ema);
    if (resume && !resume->average.empty()) average->load(resume->average, resume->average_updates);
    else if (resume && leader)
      std::printf("--ema: %s has no weight average; it starts from its weights\n", resume->path.c_str());
    if (leader)
      std::printf("--ema %g: validation and the snapshots' users (evaluate, detect, serve, export) get the weights' "
                  "moving average\n",
                  s.ema);
  }
  // The buckets hold a copy of every gradient: only a data-parallel run pays for them.
  std::optional<dist::GradientBuckets> buckets;
  if (parallel) buckets.emplace(params);
  DataParallelShare share{&group, buckets ? &*buckets : nullptr};
  // --sync-bn: batch norm over the global batch, through a group of its own (GroupReplicaSum).
  std::shared_ptr<dist::GroupReplicaSum> bn_replicas;
  int synchronised_norms = 0;
  if (s.sync_bn && parallel) {
    bn_replicas = std::make_shared<dist::GroupReplicaSum>(group.new_group("sync-bn"));
    synchronised_norms = nn::convert_sync_batch_norm(model, bn_replicas);
  }
  // The group goes when train returns; the model stays.
  struct Unsynchronise {
    RetinaNet& model;
    bool active;
    ~Unsynchronise() {
      if (active) nn::convert_sync_batch_norm(model, nullptr);
    }
  } unsynchronise{model, bn_replicas != nullptr};

  data::LoaderOptions loader_options;
  loader_options.batch_size = s.batch_size;
  loader_options.workers = s.workers;
  loader_options.seed = s.seed;
  loader_options.drop_last = static_cast<int64_t>(data.train_source->size()) >= s.batch_size;
  loader_options.pipeline.min_side = s.image_min_side;
  loader_options.pipeline.max_side = s.image_max_side;
  loader_options.pipeline.random_transform = s.random_transform;
  loader_options.pipeline.augment = augmentation(s);
  loader_options.shard_rank = group.rank();
  loader_options.shard_count = group.world_size();
  data::DataLoader loader(data.train_source, loader_options);
  const int64_t loader_steps = loader.steps_per_epoch();
  const int64_t steps_per_epoch = s.steps > 0 ? s.steps : loader_steps;
  // Each training epoch starts a fresh loader epoch (or several, when --steps asks for more
  // than one pass), so where an epoch's data comes from depends on nothing but its number.
  const int64_t passes_per_epoch = (steps_per_epoch + loader_steps - 1) / loader_steps;
  const optim::LrSchedule schedule = make_schedule(s, steps_per_epoch);

  ValidationOptions validation_options;
  validation_options.pipeline = inference_pipeline(s);
  validation_options.batch_size = s.batch_size;
  validation_options.workers = s.workers;
  validation_options.score_threshold = s.score_threshold;
  validation_options.device = device;
  validation_options.group = &group;
  const bool validating = data.validation_source && !s.no_evaluation;

  // Rank 0 alone owns the snapshot folder.
  std::optional<TrainingLog> log;
  if (leader) {
    log.emplace(s.snapshot_path, data.train.classes, resume ? state.epoch : -1);
    if (const int removed = remove_snapshots_after(s.snapshot_path, state.epoch))
      std::printf("removed %d snapshots of an earlier run after epoch %lld from %s\n", removed,
                  static_cast<long long>(state.epoch), s.snapshot_path.c_str());
    write_split_lists(s.snapshot_path, data);
  }
  if (parallel && leader)
    std::printf("data-parallel on %d ranks (%s): up to %lld images of each batch of %lld per rank%s\n", group.world_size(),
                group.backend().c_str(),
                static_cast<long long>((s.batch_size + group.world_size() - 1) / group.world_size()),
                static_cast<long long>(s.batch_size),
                synchronised_norms > 0 ? ("; " + std::to_string(synchronised_norms) +
                                          " batch norms use the global batch's statistics (--sync-bn)").c_str()
                : s.norm == "batch" ? "; batch-norm statistics are each rank's own (no --sync-bn)"
                                    : "");
  if (!parallel && leader && s.sync_bn)
    std::printf("--sync-bn: a single process's batch norm already sees the whole batch: nothing to synchronise\n");
  if (parallel && leader && s.sync_bn && synchronised_norms == 0)
    std::printf("--sync-bn: the model has no batch norm that learns from its batches (--norm %s): nothing to "
                "synchronise\n",
                uses_frozen_batch_norm(s) ? "frozen" : s.norm.c_str());
  if (leader)
    std::printf("training on %s (%s of %lld per epoch), validating on %zu; %lld trainable parameters; snapshots in %s\n",
                data::counted(data.train.images.size(), "image").c_str(),
                data::counted(static_cast<size_t>(steps_per_epoch), "step").c_str(), static_cast<long long>(s.batch_size),
                validating ? data.validation.images.size() : size_t{0},
                static_cast<long long>(model.parameter_count(/*trainable_only=*/true)), s.snapshot_path.c_str());
  std::fflush(stdout);

  const bool interactive = leader && ProgressBar::stderr_is_terminal();
  for (int64_t epoch = state.epoch; epoch < s.epochs; ++epoch) {
    set_training_mode(model, s);
    // The other ranks' stdout is closed (train_command): their bars go nowhere.
    ProgressBar bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(s.epochs), steps_per_epoch,
                    interactive, 10, leader ? stderr : stdout);
    const auto start = std::chrono::steady_clock::now();
    LossValues sum;
    int64_t images = 0;
    double lr = 0;
    for (int64_t i = 0; i < steps_per_epoch; ++i) {
      if (i % loader_steps == 0) loader.start_epoch(epoch * passes_per_epoch + i / loader_steps);
      std::optional<data::Batch> batch = loader.next();
      MASKDET_CHECK(batch.has_value(), "the loader ended its epoch early");
      if (parallel) {
        // The single process pads the whole batch to its largest image: so must every shard.
        const std::vector<std::array<int64_t, 2>> sizes = group.all_gather(
            std::array{batch->images.size(2), batch->images.size(3)}, "the shards' image sizes");
        int64_t height = 0, width = 0;
        for (const auto& [h, w] : sizes) height = std::max(height, h), width = std::max(width, w);
        data::pad_batch(*batch, height, width);
      }
      const size_t global_batch = loader.global_batch_size(i % loader_steps);
      share.weight = static_cast<double>(batch->size()) / static_cast<double>(global_batch);
      if (bn_replicas) bn_replicas->set_loss_weight(share.weight);
      std::vector<DetectionTarget> targets;
      // Left on the host: the loss checks the labels there and copies each image's boxes over.
      for (size_t b = 0; b < batch->size(); ++b) targets.push_back({batch->boxes[b], batch->labels[b]});

      optim::apply_lr_schedule(*optimizer, schedule, state.step);
      lr = optimizer->lr(0);
      const LossValues loss =
          training_step(model, *optimizer, params, batch->images.to(device), targets, s.clip_grad_norm,
                        [&](const char* what, double value, const LossValues& l) {
                          diverged(what, value, epoch + 1, i + 1, state.step + 1, l, state);
                        },
                        parallel ? &share : nullptr);
      ++state.step;
      if (average) average->update(model);
      if (leader) log->log_step(epoch + 1, state.step, loss, lr);

      sum.total += loss.total;
      sum.classification += loss.classification;
      sum.regression += loss.regression;
      images += static_cast<int64_t>(global_batch);
      const double n = static_cast<double>(i + 1);
      bar.update(i + 1, {{"loss", sum.total / n}, {"classification", sum.classification / n}, {"regression", sum.regression / n}},
                 images);
    }
    bar.finish();
    EpochRecord record_line;
    record_line.epoch = epoch + 1;
    record_line.step = state.step;
    const double n = static_cast<double>(steps_per_epoch);
    record_line.mean_loss = {sum.total / n, sum.classification / n, sum.regression / n};
    record_line.lr = lr;
    record_line.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    record_line.images_per_second = static_cast<double>(images) / record_line.seconds;
    if (parallel) {
      // Batch-norm running statistics are each replica's own (--norm batch without --sync-bn):
      // rank 0's, as DDP's broadcast_buffers, so that validation and the snapshot see one model.
      std::vector<Tensor> buffers;
      for (const auto& [name, buffer] : model.named_buffers()) buffers.push_back(buffer);
      dist::broadcast_tensors(group, buffers, "rank 0's batch-norm statistics");
      // The averaged statistics too: each rank averaged its own.
      if (average) {
        std::vector<Tensor> averages;
        for (const auto& [name, tensor] : average->averages()) averages.push_back(tensor);
        dist::broadcast_tensors(group, averages, "rank 0's weight averages");
      }
    }
    if (validating) {
      // The model the snapshot gives evaluate and detect: the average, where there is one.
      std::optional<optim::WeightAverage::Swapped> averaged;
      if (average) averaged.emplace(*average, model);
      record_line.validation = validate(model, data.validation_source, data.validation, validation_options).result;
      set_training_mode(model, s);
    }

    state.epoch = epoch + 1;
    const std::string path = snapshot_file(s.snapshot_path, state.epoch);
    if (parallel)
      dist::check_replicas_agree(group, replica_state(model, optimizer->state_dict()),
                                 "weights and optimiser state at epoch " + std::to_string(state.epoch));
    state.last_snapshot = path;
    if (!leader) continue;
    SnapshotInfo info{state.epoch, state.step, record, data.train.classes, default_generator().state()};
    save_snapshot(path, model, optimizer.get(), info, average ? &*average : nullptr);
    if (after_snapshot) after_snapshot();
    prune_snapshots(s.snapshot_path, s.keep_snapshots);
    log->log_epoch(record_line);
    update_curves_figure(s.snapshot_path);

    std::printf("epoch %lld/%lld  %s  lr %.3g  %.0f s (%.1f img/s)%s\n", static_cast<long long>(state.epoch),
                static_cast<long long>(s.epochs), describe_losses(record_line.mean_loss).c_str(), lr, record_line.seconds,
                record_line.images_per_second,
                record_line.validation ? ("  " + describe_validation(*record_line.validation)).c_str() : "");
    std::fflush(stdout);
  }
  return state;
}

}  // namespace maskdet::app
