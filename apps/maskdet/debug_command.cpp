// `maskdet debug`: a look at the data before training, as keras-retinanet's debug.py. For the
// first --count images it draws, at the size the network sees them, every annotated box and the
// anchors training would match to it (green); a box matched only through the low-quality
// fallback is drawn orange, one with no anchor at all red. Over the whole set it prints the
// boxes per class and how many fall into each of those cases, using image sizes from the
// annotations (decoding only images whose annotation gives none).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <opencv2/imgproc.hpp>

#include "apps/data/counted.h"
#include "apps/data/random_transform.h"
#include "apps/data/resize.h"
#include "apps/data_io/image_decode.h"
#include "apps/data_io/image_file_source.h"
#include "apps/maskdet/anchor_check.h"
#include "apps/maskdet/annotate.h"
#include "apps/maskdet/commands.h"
#include "apps/maskdet/data_sets.h"
#include "apps/maskdet/output_folder.h"
#include "apps/maskdet/train_settings.h"

namespace maskdet::app {

namespace {

namespace fs = std::filesystem;

struct DebugSettings {
  std::string data, classes_file, out, snapshot;
  int64_t count = 20;
  bool random_transform = false;
  bool skip_bad = false;
  uint64_t seed = 1;
};

enum class BoxFate { Matched, FallbackOnly, NoAnchor };

BoxFate fate(const BoxAnchors& box, double fg_threshold) {
  if (!box.matched()) return BoxFate::NoAnchor;
  return box.best_iou >= fg_threshold ? BoxFate::Matched : BoxFate::FallbackOnly;
}

const cv::Scalar kAnchorColor(60, 200, 60), kBoxColor(230, 150, 30), kFallbackColor(0, 150, 255), kNoAnchorColor(40, 40, 230);

// The picture: anchors first, thin, so the boxes stay readable on top.
void draw_check(cv::Mat& bgr, const std::vector<data::BoxAnnotation>& boxes, const AnchorCheck& check,
                const std::vector<std::string>& classes, double fg_threshold) {
  for (const auto& box : check.boxes)
    for (const int64_t a : box.anchors) {
      const float* r = &check.anchors[static_cast<size_t>(a) * 4];
      cv::rectangle(bgr, cv::Point(static_cast<int>(r[0]), static_cast<int>(r[1])),
                    cv::Point(static_cast<int>(r[2]), static_cast<int>(r[3])), kAnchorColor, 1);
    }
  for (size_t b = 0; b < boxes.size(); ++b) {
    const BoxFate f = fate(check.boxes[b], fg_threshold);
    const cv::Scalar color = f == BoxFate::Matched ? kBoxColor : f == BoxFate::FallbackOnly ? kFallbackColor : kNoAnchorColor;
    char caption[96];
    std::snprintf(caption, sizeof caption, "%s IoU %.2f", classes.at(static_cast<size_t>(boxes[b].class_id)).c_str(),
                  check.boxes[b].best_iou);
    draw_box(bgr, boxes[b].x1, boxes[b].y1, boxes[b].x2, boxes[b].y2, color, caption);
  }
}

}  // namespace

int debug_command(const std::vector<std::string>& args) {
  DebugSettings s;
  TrainSettings model;  // the input size and architecture flags training would use
  cli::Flags flags("maskdet debug",
                   "Draws a data set's boxes with the anchors training matches to them (green); boxes matched only\n"
                   "through the low-quality fallback orange, boxes with no anchor red. Prints the counts.");
  flags.add("--data", s.data, "PATH", "VOC folder, devkit, or CSV");
  flags.add("--classes", s.classes_file, "FILE", "class list for CSV data");
  flags.add("--out", s.out, "DIR", "where the pictures go");
  flags.add("--count", s.count, "N", "images drawn (the counts cover all)");
  flags.add("--snapshot", s.snapshot, "FILE|DIR", "take the input size and anchors from this snapshot's settings");
  flags.add("--image-min-side", model.image_min_side, "PX", "resize as training would (without --snapshot)");
  flags.add("--image-max-side", model.image_max_side, "PX", "resize as training would (without --snapshot)");
  flags.add_switch("--random-transform", s.random_transform, "draw augmented images, as training sees them");
  flags.add("--seed", s.seed, "N", "the augmentation's seed");
  flags.add_switch("--skip-bad", s.skip_bad, "leave out images with bad annotations instead of stopping");
  if (cli::Flags::wants_help(args)) {
    std::cout << flags.usage();
    return 0;
  }
  flags.parse(args);
  if (s.data.empty()) throw cli::UsageError("maskdet debug: --data PATH is required");
  if (s.out.empty()) throw cli::UsageError("maskdet debug: --out DIR is required");
  if (s.count < 0) throw cli::UsageError("maskdet debug: --count must be >= 0");
  if (!(model.image_min_side >= 32 && model.image_max_side >= model.image_min_side))
    throw cli::UsageError("maskdet debug: --image-min-side must be >= 32 and --image-max-side >= --image-min-side");

  std::vector<std::string> classes;
  if (!s.snapshot.empty()) {
    const SnapshotInfo info = load_snapshot(resolve_snapshot(s.snapshot)).info;
    model = settings_from_record(info.config);
    classes = info.classes;
  }
  const data::Dataset dataset = read_data_set(s.data, s.classes_file, classes, s.skip_bad);
  const RetinaNetConfig config = retinanet_config(model, dataset.classes.size());
  const double fg_threshold = config.loss.matcher.fg_iou_threshold;
  std::vector<std::string> image_files;
  for (const auto& image : dataset.images) image_files.push_back(image.image_path);
  refuse_out_holding_inputs("debug", s.out, image_files);
  std::error_code ec;
  fs::create_directories(s.out, ec);
  MASKDET_CHECK(!ec, "cannot create ", s.out, ": ", ec.message());

  const data::ImageFileSource source(dataset);
  const size_t drawn = std::min(dataset.images.size(), static_cast<size_t>(s.count));
  const size_t num_classes = dataset.classes.size();
  std::vector<size_t> boxes(num_classes), fallback(num_classes), none(num_classes);
  for (size_t i = 0; i < dataset.images.size(); ++i) {
    const data::ImageAnnotation& annotation = dataset.images[i];
    data::Sample sample;
    if (i < drawn) {
      sample = source.load(i);
      if (s.random_transform) {
        Generator gen(s.seed + i);
        data::apply_random_transform(sample, augmentation(model), gen);
      }
    } else {
      sample.image.width = annotation.width;
      sample.image.height = annotation.height;
      if (annotation.width <= 0 || annotation.height <= 0) {
        const data::RgbImage decoded = data::decode_image_file(annotation.image_path);
        sample.image.width = decoded.width;
        sample.image.height = decoded.height;
      }
      sample.boxes = annotation.boxes;
    }
    const data::PixelSize from{sample.image.height, sample.image.width};
    const data::PixelSize to = data::resized_size(from, model.image_min_side, model.image_max_side);
    data::scale_boxes(sample.boxes, from, to);
    const AnchorCheck check = check_anchors(sample.boxes, to, config);
    for (size_t b = 0; b < sample.boxes.size(); ++b) {
      const auto c = static_cast<size_t>(sample.boxes[b].class_id);
      ++boxes[c];
      const BoxFate f = fate(check.boxes[b], fg_threshold);
      if (f == BoxFate::FallbackOnly) ++fallback[c];
      if (f == BoxFate::NoAnchor) ++none[c];
    }
    if (i < drawn) {
      cv::Mat bgr = to_bgr(data::resize_bilinear(sample.image, to));
      draw_check(bgr, sample.boxes, check, dataset.classes, fg_threshold);
      write_picture((fs::path(s.out) / (fs::path(annotation.image_path).stem().string() + "_debug.jpg")).string(), bgr);
    }
  }

  size_t total = 0, total_fallback = 0, total_none = 0;
  std::printf("%s: %s at %gx%g (min x max side); anchors matched at IoU >= %g\n", s.data.c_str(),
              data::counted(dataset.images.size(), "image").c_str(), model.image_min_side, model.image_max_side, fg_threshold);
  std::printf("%-12s %7s %15s %10s\n", "class", "boxes", "fallback only", "no anchor");
  for (size_t c = 0; c < num_classes; ++c) {
    std::printf("%-12s %7zu %15zu %10zu\n", dataset.classes[c].c_str(), boxes[c], fallback[c], none[c]);
    total += boxes[c];
    total_fallback += fallback[c];
    total_none += none[c];
  }
  std::printf("%-12s %7zu %15zu %10zu\n", "all", total, total_fallback, total_none);
  std::printf("boxes with no anchor at IoU >= %g: %zu of %zu (%zu learn only through the low-quality fallback, %zu "
              "not at all)\n",
              fg_threshold, total_fallback + total_none, total, total_fallback, total_none);
  std::printf("wrote %s to %s\n", data::counted(drawn, "picture").c_str(), s.out.c_str());
  return 0;
}

}  // namespace maskdet::app
