// `maskdet train`: reads the flags (over a snapshot's recorded settings when resuming), the data
// and the starting weights, then hands over to the training loop (trainer.h).
#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>

#include "apps/data/counted.h"
#include "apps/maskdet/commands.h"
#include "apps/maskdet/data_sets.h"
#include "apps/maskdet/initial_weights.h"
#include "apps/maskdet/output_folder.h"
#include "apps/maskdet/pretrained_weights.h"
#include "apps/maskdet/snapshot.h"
#include "apps/maskdet/snapshot_folder.h"
#include "apps/maskdet/train_settings.h"
#include "apps/maskdet/trainer.h"
#include "tensor/generator.h"

namespace maskdet::app {

namespace {

constexpr const char* kSummary =
    "Trains the RetinaNet detector on a VOC or CSV data set; one snapshot per epoch in --snapshot-path.\n"
    "With --resume, the snapshot's settings are used and the flags given here override them.";

// The folder a --resume or --snapshot-path value stands for (a snapshot file's own folder).
std::string folder_of(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec) || !std::filesystem::path(path).has_parent_path()) return path;
  return std::filesystem::path(path).parent_path().string();
}

// The snapshot's settings with the command line's flags over them.
TrainSettings resumed_settings(const std::vector<std::string>& args, const Snapshot& snapshot,
                               const std::string& snapshot_path) {
  TrainSettings merged = settings_from_record(snapshot.info.config);
  cli::Flags flags("maskdet train", kSummary);
  bind_train_flags(flags, merged);
  flags.parse(args);
  const auto recorded = snapshot.info.config;
  const auto now = settings_record(merged);
  for (const std::string& name : fixed_on_resume_flags()) {
    const auto was = recorded.find(name);
    if (was != recorded.end() && now.at(name) != was->second)
      throw cli::UsageError("maskdet train: --" + name + " " + now.at(name) + " differs from the snapshot's " +
                            was->second + "; a resumed run keeps it (start a new run with --weights instead)");
  }
  merged.resume = snapshot_path;
  return merged;
}

}  // namespace

int train_command(const std::vector<std::string>& args) {
  TrainSettings settings;
  cli::Flags flags("maskdet train", kSummary);
  bind_train_flags(flags, settings);
  if (cli::Flags::wants_help(args)) {
    std::cout << flags.usage();
    return 0;
  }
  flags.parse(args);

  if (settings.overwrite && !settings.resume.empty())
    throw cli::UsageError("maskdet train: --overwrite replaces an earlier run and --resume goes on with one; give one");
  if (!(settings.dist_timeout > 0)) throw cli::UsageError("maskdet train: --dist-timeout must be > 0 seconds");
  // A launcher's world (torchrun's or mpirun's environment) or a world of one.
  const RunWorld world = join_run_world(
      "train", settings.batch_size, std::chrono::milliseconds(static_cast<int64_t>(settings.dist_timeout * 1000)));
  const dist::LaunchEnvironment& launch = world.launch;
  const std::unique_ptr<dist::ProcessGroup>& group = world.group;
  const bool leader = group->is_leader();
  // Before anything reads the folder, so that it shows a whole run, never one half set aside.
  // Rank 0 alone changes the folder; the others read it once it is done.
  const std::string given_folder = folder_of(settings.resume.empty() ? settings.snapshot_path : settings.resume);
  if (leader) {
    remove_stale_temporaries_in(given_folder, std::cout);
    recover_snapshot_folder(given_folder, std::cout);
  }
  group->barrier("rank 0 preparing the snapshot folder");
  std::optional<Snapshot> snapshot;
  if (!settings.resume.empty()) {
    const std::string path = resolve_snapshot(settings.resume);
    snapshot = load_snapshot(path);
    settings = resumed_settings(args, *snapshot, path);
  }
  check_train_settings(settings);
  if (leader && settings.snapshot_path != given_folder) {  // a resumed run's own folder, elsewhere
    remove_stale_temporaries_in(settings.snapshot_path, std::cout);
    recover_snapshot_folder(settings.snapshot_path, std::cout);
  }
  if (leader && !snapshot) refuse_earlier_run(settings.snapshot_path, settings.overwrite);
  // Ranks on one host share its GPUs as torchrun's users expect: --device cuda means this
  // rank's LOCAL_RANK-th. The snapshot keeps the flag as given.
  TrainSettings rank_settings = settings;
  if (launch.world_size > 1 && settings.device == "cuda")
    rank_settings.device = "cuda:" + std::to_string(launch.local_rank);
  const Device device = usable_device(rank_settings.device);

  // With --cache, rank 0 builds the prepared cache when it must; the others read it once it is
  // whole rather than build it over each other.
  const bool cache_first = launch.world_size > 1 && !settings.cache.empty();
  if (cache_first && !leader) group->barrier("rank 0 preparing the --cache file");
  const TrainingData data = load_training_data(settings, snapshot ? snapshot->info.classes : std::vector<std::string>{});
  if (cache_first && leader) group->barrier("rank 0 preparing the --cache file");
  const std::vector<std::string>& classes = data.train.classes;
  MASKDET_CHECK(!classes.empty(), "data set ", settings.data, " has no classes (no boxes at all?)");

  manual_seed(settings.seed);
  auto model = std::make_shared<RetinaNet>(retinanet_config(settings, classes.size()));
  TrainerState state;
  if (snapshot) {
    load_snapshot_model(*model, *snapshot);
    default_generator().set_state(snapshot->info.rng_state);
    state = {snapshot->info.epoch, snapshot->info.step, settings.resume};
    std::cout << "resuming " << settings.resume << " after epoch " << state.epoch << " (optimiser step " << state.step
              << ")\n";
    if (state.epoch >= settings.epochs) {
      std::cout << "nothing to do: the snapshot has " << state.epoch << " epochs and --epochs is " << settings.epochs
                << "\n";
      return 0;
    }
  } else if (const std::string weights = initial_weights(settings); weights != "none") {
    load_initial_weights(*model, weights == "imagenet" ? find_or_fetch_imagenet_weights(std::cout) : weights, std::cout);
  }
  const auto stages = static_cast<int64_t>(model->body()->stages().size());
  const int64_t trainable = trainable_backbone_stages(settings, stages);
  if (trainable < stages)
    std::cout << "backbone: " << freeze_backbone_stages(*model->body(), trainable) << " parameters of its first "
              << stages - trainable << " of " << stages << " stages frozen\n";
  model->to(device);

  // Set aside only now, after the data, the device and the weights were found good: a run that
  // cannot start leaves the folder as it was.
  std::optional<EarlierRun> earlier;
  if (leader && !snapshot) earlier.emplace(settings.snapshot_path, std::cout);
  const TrainerState end = train(*model, rank_settings, settings_record(settings), data, state,
                                 snapshot ? &*snapshot : nullptr, *group, [&] {
                                   if (earlier) earlier->discard();
                                 });
  std::cout << "trained " << data::counted(static_cast<size_t>(end.epoch), "epoch") << " ("
            << data::counted(static_cast<size_t>(end.step), "step") << "); last snapshot " << end.last_snapshot
            << "; logs and training_curves.png in " << settings.snapshot_path << "\n";
  return 0;
}

}  // namespace maskdet::app
