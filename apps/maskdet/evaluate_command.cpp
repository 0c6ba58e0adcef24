// `maskdet evaluate`: scores a snapshot on a data set — all of its images, or the fixed
// validation split of --val-fraction and --seed — and prints the table, writes results.json
// (apps/eval's EvalResult), precision_recall.png and images.txt (the image files scored, one a
// line, e.g. to hand some to `maskdet detect`).
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "apps/eval/coco_ap.h"
#include "apps/eval/report_plots.h"
#include "apps/maskdet/commands.h"
#include "apps/maskdet/data_sets.h"
#include "apps/maskdet/dataset_split.h"
#include "apps/maskdet/detector.h"
#include "apps/maskdet/inference_flags.h"
#include "apps/maskdet/image_source.h"
#include "apps/maskdet/output_folder.h"
#include "apps/maskdet/png_file.h"
#include "apps/maskdet/validation.h"
#include "tensor/atomic_file.h"

namespace maskdet::app {

namespace {

namespace fs = std::filesystem;

struct EvaluateSettings {
  std::string snapshot;
  std::string data;  // empty: the data set the snapshot was trained on
  std::string classes_file;
  double val_fraction = 0;
  uint64_t seed = 0;
  double score_threshold = 0.5;
  std::string out;
  std::string cache;
  int64_t batch_size = 0;  // 0: the snapshot's
  int workers = 2;
  std::string device = "cpu";
  bool class_agnostic_nms = false;
  bool trained_weights = false;
  InferenceFlags size;
};

std::string cell(const std::optional<double>& v) {
  char buffer[16];
  if (!v) return "-";
  std::snprintf(buffer, sizeof buffer, "%.4f", *v);
  return buffer;
}

void print_table(const eval::EvalResult& r) {
  std::printf("%-12s %7s %7s %8s %8s %8s %9s %9s\n", "class", "boxes", "found", "AP@0.5", "AP@.5:.95", "AP@0.75",
              "precision", "recall");
  for (const auto& c : r.per_class)
    std::printf("%-12s %7lld %7lld %8s %8s %8s %9s %9s\n", c.name.c_str(), static_cast<long long>(c.num_gt),
                static_cast<long long>(c.num_det), cell(c.ap50).c_str(), cell(c.ap).c_str(), cell(c.ap75).c_str(),
                cell(c.precision).c_str(), cell(c.recall).c_str());
  std::printf("%-12s %7s %7s %8s %8s %8s %9s %9s\n", "mean / all", "", "", cell(r.map50).c_str(), cell(r.map).c_str(),
              cell(r.map75).c_str(), cell(r.precision).c_str(), cell(r.recall).c_str());
  std::printf("(AP@0.5: PASCAL VOC all-point; AP@.5:.95 and AP@0.75: COCO; precision and recall at score >= %g)\n",
              r.score_threshold);
  // Recall by box size shows whether small faces are found at all, which the means hide.
  std::printf("\n%-12s %7s %9s %9s", "box size", "boxes", "AP@.5:.95", "AR@100");
  for (const auto& c : r.per_class) std::printf(" %12s", ("AR " + c.name).c_str());
  std::printf("\n");
  for (int size = 0; size < eval::kNumSizes; ++size) {
    const eval::SizeEval& mean = r.by_size[size];
    std::printf("%-12s %7lld %9s %9s", eval::kAreaSizes[size].name, static_cast<long long>(mean.num_gt),
                cell(mean.ap).c_str(), cell(mean.ar).c_str());
    for (const auto& c : r.per_class) std::printf(" %12s", cell(c.by_size[size].ar).c_str());
    std::printf("\n");
  }
  std::printf("%-12s %7s %9s %9s\n", "all", "", cell(r.map).c_str(), cell(r.mar).c_str());
  std::printf("(COCO's sizes, box area in the original image: small up to 32x32 px, medium to 96x96, large above)\n");
}

}  // namespace

int evaluate_command(const std::vector<std::string>& args) {
  EvaluateSettings s;
  cli::Flags flags("maskdet evaluate",
                   "Scores a snapshot: mAP@0.5 per class (VOC), mAP@[.5:.95] (COCO), precision and recall at a score.\n"
                   "Without --val-fraction every image of --data is used.");
  flags.add("--snapshot", s.snapshot, "FILE|DIR", "the snapshot (a folder: its newest)");
  flags.add("--data", s.data, "PATH", "data set to score on (default: the one the snapshot was trained on)");
  flags.add("--classes", s.classes_file, "FILE", "class list for CSV data");
  flags.add("--val-fraction", s.val_fraction, "F", "score only the validation split training held out with this fraction");
  flags.add("--seed", s.seed, "N", "the split's seed (default: the snapshot's)");
  flags.add("--score-threshold", s.score_threshold, "X", "score at which precision and recall are counted");
  flags.add("--out", s.out, "DIR", "where results.json and precision_recall.png go (default: <snapshot folder>/evaluation)");
  flags.add("--cache", s.cache, "FILE", "prepared cache of the data set's images (used when it matches, else built)");
  flags.add("--batch-size", s.batch_size, "N",
            "images per forward pass (0: the training batch size); on the canvas (--canvas) the figures do not "
            "depend on it, with --canvas 32 they do: images of a batch are padded to one size, and the padding "
            "changes the features");
  flags.add("--workers", s.workers, "N", "background threads preparing batches");
  s.size.bind(flags);
  flags.add("--device", s.device, "cpu|cuda", "where the model runs");
  flags.add_switch("--class-agnostic-nms", s.class_agnostic_nms,
                   "one NMS over all classes: keep one box per object when its classes exclude each other");
  flags.add_switch("--trained-weights", s.trained_weights,
                   "score the optimiser's last weights, not their moving average (snapshots of train --ema)");
  if (cli::Flags::wants_help(args)) {
    std::cout << flags.usage();
    return 0;
  }
  flags.parse(args);
  if (s.snapshot.empty()) throw cli::UsageError("maskdet evaluate: --snapshot FILE is required");
  if (flags.given("val-fraction") && !(s.val_fraction > 0 && s.val_fraction < 1))
    throw cli::UsageError("maskdet evaluate: --val-fraction must be in (0, 1)");
  if (s.batch_size < 0) throw cli::UsageError("maskdet evaluate: --batch-size must be >= 0");
  if (s.score_threshold < 0 || s.score_threshold > 1)
    throw cli::UsageError("maskdet evaluate: --score-threshold must be in [0, 1]");
  s.size.check("evaluate");

  const Device device = usable_device(s.device);
  // Post-processing keeps low-scoring detections: average precision integrates over every score.
  LoadedDetector detector =
      load_detector(s.snapshot, device, RetinaNetConfig{}.postprocess.score_threshold, s.class_agnostic_nms,
                    s.trained_weights ? SnapshotWeights::Trained : SnapshotWeights::AverageIfAny);
  const SmallFacePass small_faces = s.size.apply(detector);
  const TrainSettings& trained = detector.settings;
  const std::string data_path = s.data.empty() ? trained.data : s.data;
  const std::string classes_file = flags.given("classes") ? s.classes_file : (s.data.empty() ? trained.classes_file : "");
  const uint64_t seed = flags.given("seed") ? s.seed : trained.seed;
  MASKDET_CHECK(!data_path.empty(), "the snapshot records no data set: pass --data PATH");

  const data::Dataset all = read_data_set(data_path, classes_file, detector.info.classes, trained.skip_bad);
  data::Dataset scored = all;
  std::vector<size_t> indices(all.images.size());
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = i;
  if (flags.given("val-fraction")) {
    indices = split_dataset(all.images.size(), s.val_fraction, seed).validation;
    scored = subset(all, indices);
    std::printf("evaluating %s on the validation split of %s: %zu of %zu images (fraction %g, seed %llu)\n",
                detector.path.c_str(), data_path.c_str(), indices.size(), all.images.size(), s.val_fraction,
                static_cast<unsigned long long>(seed));
  } else {
    std::printf("evaluating %s on all %zu images of %s\n", detector.path.c_str(), all.images.size(), data_path.c_str());
  }
  if (s.class_agnostic_nms) std::printf("NMS over all classes at once (--class-agnostic-nms)\n");
  if (detector.flip_test) std::printf("each image also mirrored, both passes' detections merged (--flip-test)\n");
  if (detector.averaged_weights)
    std::printf("weights: their moving average (train --ema %g; --trained-weights for the optimiser's own)\n",
                trained.ema);
  std::fflush(stdout);
  const auto source = std::make_shared<SubsetSource>(
      open_image_source(all, s.cache, static_cast<int>(inference_pipeline(trained).max_side), std::max(s.workers, 1)),
      indices);

  ValidationOptions options;
  options.pipeline = inference_pipeline(trained);
  options.batch_size = s.batch_size > 0 ? s.batch_size : trained.batch_size;
  options.workers = s.workers;
  options.score_threshold = s.score_threshold;
  options.device = device;
  options.small_faces = small_faces;
  options.flip_test = detector.flip_test;
  options.canvas = detector.canvas;
  // The pass enlarges the image files themselves: a prepared cache holds them shrunk.
  if (options.small_faces.enabled())
    options.small_face_source = std::make_shared<SubsetSource>(open_image_source(all, "", 0, 1), indices);
  const ValidationRun run = validate(*detector.model, source, scored, options);

  print_table(run.result);
  if (options.small_faces.enabled())
    std::printf("small-face pass: %zu of %zu images also run enlarged, so faces from %g px reach %g px in the model's "
                "input (--min-face)\n",
                run.small_face_images, scored.images.size(), options.small_faces.min_face,
                options.small_faces.resolved_side);
  std::printf("time per image: %.1f ms (forward and post-processing at %gx%g max, %s)\n",
              1000 * run.result.seconds_per_image.value_or(0), options.pipeline.min_side, options.pipeline.max_side,
              device.str().c_str());

  const std::string out = s.out.empty() ? (fs::path(detector.path).parent_path() / "evaluation").string() : s.out;
  std::error_code ec;
  fs::create_directories(out, ec);
  MASKDET_CHECK(!ec, "cannot create ", out, ": ", ec.message());
  remove_stale_temporaries_in(out, std::cout);
  const std::string json_path = (fs::path(out) / "results.json").string();
  const std::string plot_path = (fs::path(out) / "precision_recall.png").string();
  const std::string images_path = (fs::path(out) / "images.txt").string();
  std::string image_list;
  for (const auto& image : scored.images) image_list += image.image_path + "\n";
  write_file_atomically(json_path, run.result.to_json());
  save_png(plot_path, eval::render_plot(eval::precision_recall_plot(run.result)));
  write_file_atomically(images_path, image_list);
  std::printf("wrote %s, %s and %s (the images scored)\n", json_path.c_str(), plot_path.c_str(), images_path.c_str());
  return 0;
}

}  // namespace maskdet::app
