// `maskdet detect`: runs a snapshot on image files, folders of them and videos, and writes each
// annotated (class-coloured boxes, "class score" captions) into --out, with every detection also
// listed in --out/detections.jsonl in the original pixels:
//   {"image":"in/3.jpg","class":"mask","score":0.93,"box":[x1,y1,x2,y2]}
//   {"image":"clip.mp4","frame":12,...} for video frames.
// Pictures and the list are written atomically; a video is written under a temporary name and
// renamed when complete. An --out folder that holds an input is refused (output_folder.h). An
// input that cannot be read is named and passed over; the others are still done and listed, and
// the exit status is 1 at the end (0 with --skip-bad).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <opencv2/videoio.hpp>
#include <set>

#include "apps/cli/error_message.h"
#include "apps/data/batch.h"
#include "apps/data/counted.h"
#include "apps/data/sample_pipeline.h"
#include "apps/data_io/image_decode.h"
#include "apps/maskdet/annotate.h"
#include "apps/maskdet/commands.h"
#include "apps/maskdet/detector.h"
#include "apps/maskdet/inference_flags.h"
#include "apps/maskdet/output_folder.h"
#include "tensor/atomic_file.h"
#include "tensor/json_text.h"

namespace maskdet::app {

namespace {

namespace fs = std::filesystem;

struct DetectSettings {
  std::string snapshot;
  double threshold = 0.5;
  std::string out;
  std::string device = "cpu";
  int64_t max_frames = 0;  // per video; 0: all
  bool class_agnostic_nms = false;
  InferenceFlags size;
  bool skip_bad = false;
};

const std::set<std::string> kImageExtensions = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};
const std::set<std::string> kVideoExtensions = {".mp4", ".avi", ".mov", ".mkv", ".m4v"};

std::string lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

// Files as given; folders expand to the images and videos directly inside them, sorted.
std::vector<fs::path> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<fs::path> files;
  for (const auto& input : inputs) {
    std::error_code ec;
    MASKDET_CHECK(fs::exists(input, ec), "input ", input, " not found");
    if (!fs::is_directory(input, ec)) {
      files.emplace_back(input);
      continue;
    }
    std::vector<fs::path> inside;
    for (const auto& entry : fs::directory_iterator(input)) {
      const std::string ext = lower_extension(entry.path());
      if (entry.is_regular_file() && (kImageExtensions.count(ext) || kVideoExtensions.count(ext))) inside.push_back(entry.path());
    }
    std::sort(inside.begin(), inside.end());
    MASKDET_CHECK(!inside.empty(), "folder ", input, " holds no images or videos");
    files.insert(files.end(), inside.begin(), inside.end());
  }
  return files;
}

class DetectionRun {
 public:
  DetectionRun(const LoadedDetector& detector, const SmallFacePass& small_faces, std::string out_dir)
      : detector_(detector), small_faces_(small_faces), out_dir_(std::move(out_dir)) {}

  // Detections on one picture, in its pixels.
  ImageDetections run(const data::RgbImage& image, const std::string& name) {
    return detect_picture_with_small_faces(detector_, image, name, small_faces_);
  }

  void record(const std::string& image, int64_t frame, const ImageDetections& found) {
    for (const auto& d : found) {
      nlohmann::ordered_json line = {{"image", image}};
      if (frame >= 0) line["frame"] = frame;
      line["class"] = detector_.info.classes.at(static_cast<size_t>(d.class_id));
      line["score"] = static_cast<double>(d.score);
      line["box"] = {static_cast<double>(d.x1), static_cast<double>(d.y1), static_cast<double>(d.x2),
                     static_cast<double>(d.y2)};
      lines_ += json::dump(line) + "\n";
    }
  }

  // An output name in out_dir for `input`, never one already used in this run.
  std::string output_path(const fs::path& input, const std::string& extension) {
    std::string stem = input.stem().string(), name = stem + extension;
    for (int n = 2; !used_.insert(name).second; ++n) name = stem + "_" + std::to_string(n) + extension;
    return (fs::path(out_dir_) / name).string();
  }

  const std::string& lines() const { return lines_; }
  const LoadedDetector& detector() const { return detector_; }

 private:
  const LoadedDetector& detector_;
  SmallFacePass small_faces_;
  std::string out_dir_;
  std::string lines_;
  std::set<std::string> used_;
};

std::string summary(const ImageDetections& found, const std::vector<std::string>& classes) {
  std::string text = std::to_string(found.size()) + (found.size() == 1 ? " detection" : " detections");
  for (size_t i = 0; i < found.size() && i < 5; ++i) {
    char buffer[96];
    std::snprintf(buffer, sizeof buffer, "%s%s %.2f", i ? ", " : " (", classes.at(static_cast<size_t>(found[i].class_id)).c_str(),
                  found[i].score);
    text += buffer;
  }
  return text + (found.empty() ? "" : found.size() > 5 ? ", ...)" : ")");
}

// An input that cannot be read: its fault, not the run's, so the batch goes on without it.
struct UnreadableInput : Error {
  using Error::Error;
};

void detect_image(DetectionRun& detection, const fs::path& input) {
  data::RgbImage image;
  try {
    image = data::decode_image_file(input.string());
  } catch (const Error& e) {
    throw UnreadableInput(e.what());
  }
  const ImageDetections found = detection.run(image, input.string());
  cv::Mat bgr = to_bgr(image);
  draw_detections(bgr, found, detection.detector().info.classes);
  const std::string ext = lower_extension(input) == ".png" ? ".png" : ".jpg";
  const std::string out = detection.output_path(input, ext);
  write_picture(out, bgr);
  detection.record(input.string(), -1, found);
  std::printf("%s: %s -> %s\n", input.string().c_str(), summary(found, detection.detector().info.classes).c_str(),
              out.c_str());
}

void detect_video(DetectionRun& detection, const fs::path& input, int64_t max_frames) {
  cv::VideoCapture capture(input.string());
  if (!capture.isOpened())
    throw UnreadableInput("cannot open the video " + input.string() + " (OpenCV videoio found no backend for it)");
  const double fps = capture.get(cv::CAP_PROP_FPS) > 0 ? capture.get(cv::CAP_PROP_FPS) : 25.0;
  const std::string ext = lower_extension(input) == ".avi" ? ".avi" : ".mp4";
  const std::string out = detection.output_path(input, ext);
  // The temporary keeps the extension: VideoWriter chooses the container by it.
  std::string partial_name = fs::path(out).stem().string();
  partial_name.insert(partial_name.begin(), '.');  // not "." + name: GCC 12 warns falsely (-Wrestrict) there
  partial_name += ".partial" + ext;
  const std::string partial = (fs::path(out).parent_path() / partial_name).string();
  const int fourcc = ext == ".avi" ? cv::VideoWriter::fourcc('M', 'J', 'P', 'G') : cv::VideoWriter::fourcc('m', 'p', '4', 'v');
  cv::VideoWriter writer;
  cv::Mat frame;
  int64_t frames = 0, boxes = 0;
  while ((max_frames == 0 || frames < max_frames) && capture.read(frame) && !frame.empty()) {
    if (frame.type() != CV_8UC3) frame.convertTo(frame, CV_8UC3);
    if (!writer.isOpened()) {
      writer.open(partial, fourcc, fps, frame.size());
      MASKDET_CHECK(writer.isOpened(), "cannot write the video ", partial, " (no ", ext, " encoder in OpenCV videoio)");
    }
    const ImageDetections found = detection.run(to_rgb(frame), input.string());
    draw_detections(frame, found, detection.detector().info.classes);
    writer.write(frame);
    detection.record(input.string(), frames, found);
    boxes += static_cast<int64_t>(found.size());
    ++frames;
  }
  if (frames == 0) throw UnreadableInput("the video " + input.string() + " has no readable frames");
  writer.release();
  std::error_code ec;
  fs::rename(partial, out, ec);
  MASKDET_CHECK(!ec, "cannot move ", partial, " to ", out, ": ", ec.message());
  std::printf("%s: %lld frames, %lld detections -> %s\n", input.string().c_str(), static_cast<long long>(frames),
              static_cast<long long>(boxes), out.c_str());
}

}  // namespace

int detect_command(const std::vector<std::string>& args) {
  DetectSettings s;
  cli::Flags flags("maskdet detect",
                   "Draws a snapshot's detections on images, folders of images and videos (.mp4, .avi, ...).",
                   "INPUT...");
  flags.add("--snapshot", s.snapshot, "FILE|DIR", "the snapshot (a folder: its newest)");
  flags.add("--threshold", s.threshold, "X", "lowest score drawn and listed");
  flags.add("--out", s.out, "DIR", "annotated pictures, videos and detections.jsonl go here");
  s.size.bind(flags);
  flags.add("--device", s.device, "cpu|cuda", "where the model runs");
  flags.add("--max-frames", s.max_frames, "N", "frames read from each video (0: all)");
  flags.add_switch("--class-agnostic-nms", s.class_agnostic_nms,
                   "one NMS over all classes: keep one box per object when its classes exclude each other");
  flags.add_switch("--skip-bad", s.skip_bad,
                   "inputs that cannot be read are reported as skipped and leave the exit status 0");
  if (cli::Flags::wants_help(args)) {
    std::cout << flags.usage();
    return 0;
  }
  const std::vector<std::string> inputs = flags.parse(args);
  if (s.snapshot.empty()) throw cli::UsageError("maskdet detect: --snapshot FILE is required");
  if (s.out.empty()) throw cli::UsageError("maskdet detect: --out DIR is required");
  if (inputs.empty()) throw cli::UsageError("maskdet detect: name at least one image, folder or video");
  if (s.threshold < 0 || s.threshold > 1) throw cli::UsageError("maskdet detect: --threshold must be in [0, 1]");
  if (s.max_frames < 0) throw cli::UsageError("maskdet detect: --max-frames must be >= 0");
  s.size.check("detect");

  const std::vector<fs::path> files = expand_inputs(inputs);
  std::vector<std::string> input_files;
  for (const auto& file : files) input_files.push_back(file.string());
  refuse_out_holding_inputs("detect", s.out, input_files);
  remove_stale_temporaries_in(s.out, std::cout);
  const Device device = usable_device(s.device);
  LoadedDetector detector = load_detector(s.snapshot, device, s.threshold, s.class_agnostic_nms);
  const SmallFacePass small_faces = s.size.apply(detector);
  std::printf("%s\n", describe_small_face_pass(small_faces).c_str());
  std::error_code ec;
  fs::create_directories(s.out, ec);
  MASKDET_CHECK(!ec, "cannot create ", s.out, ": ", ec.message());

  DetectionRun detection(detector, small_faces, s.out);
  size_t unreadable = 0;
  for (const fs::path& file : files) {
    try {
      if (kVideoExtensions.count(lower_extension(file))) detect_video(detection, file, s.max_frames);
      else detect_image(detection, file);
    } catch (const UnreadableInput& e) {
      ++unreadable;
      std::fflush(stdout);
      std::fprintf(stderr, "maskdet detect: %s: %s\n", s.skip_bad ? "skipped" : "error", cli::user_message(e).c_str());
    }
  }
  const std::string list = (fs::path(s.out) / "detections.jsonl").string();
  write_file_atomically(list, detection.lines());
  std::printf("wrote %s and %s\n", data::counted(files.size() - unreadable, "annotated file").c_str(), list.c_str());
  if (unreadable == 0) return 0;
  std::fflush(stdout);
  const std::string count = std::to_string(unreadable) + " of " + data::counted(files.size(), "input");
  if (s.skip_bad) {
    std::fprintf(stderr, "maskdet detect: skipped %s that could not be read (named above)\n", count.c_str());
    return 0;
  }
  std::fprintf(stderr, "maskdet detect: %s could not be read (named above; the others' detections are in %s); "
               "--skip-bad makes that exit status 0\n", count.c_str(), list.c_str());
  return kExitFailure;
}

}  // namespace maskdet::app
