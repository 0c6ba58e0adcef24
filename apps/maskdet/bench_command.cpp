// `maskdet bench`: how fast the detector trains and runs, on synthetic input (random images and
// random ground-truth boxes: no data set, no image decoding), printed as a table and written as
// JSON. tools/bench_torchvision.py measures torchvision's RetinaNet in the same configuration,
// prints the same table and, given this command's JSON, the ratio of each figure.
//
//   training:  full optimiser steps (training_step.h: forward, focal and box losses with
//              anchor matching, backward, gradient clipping, AdamW or SGD) on a batch of
//              --batch-size; step time p50 / p95 and images/s from the median step.
//   inference: detect() (detector.h) as `maskdet detect` runs it: forward without a graph, then
//              decoding, NMS and the mapping back to image pixels; latency p50 / p95 at batch 1
//              and throughput at --infer-batch-size.
//   memory:    on CUDA, the caching allocator's peak of allocated bytes in each phase
//              (cuda/allocator.h); "n/a" on the CPU.
//
//   data-parallel: under a launcher (torchrun's environment or mpirun, docs/DISTRIBUTED.md)
//              every rank takes its shard of the --batch-size global batch and the gradients are
//              summed over the ranks as `maskdet train` does, each bucket's all-reduce started
//              during backward (--no-overlap: after it); the step time is rank 0's (it includes
//              waiting for the others), the all-reduce time per step its median, and of that
//              the part after backward ended (what the overlap did not hide).
//              Only training is measured; scripts/bench-dist.sh prints the scaling table.
//
// Each timing is wall time with std::chrono, the device synchronised after each repeat, after
// --warmup untimed repeats (the first steps pay for allocation, cuDNN plans and caches). Images
// are the network's input: the size rounded up to a multiple of 32 as the data pipeline and
// torchvision batch them. Weights start from the seeded initialisation with trainable batch norm,
// as `maskdet train` without --weights; the figures do not depend on their values, except the
// post-processing, whose work grows with the candidates above --score-threshold.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "apps/data/batch_shard.h"
#include "apps/data/text_fields.h"
#include "apps/maskdet/bench_flops.h"
#include "apps/maskdet/commands.h"
#include "apps/maskdet/detector.h"
#include "apps/maskdet/train_settings.h"
#include "apps/maskdet/training_step.h"
#include "autograd/grad_mode.h"
#include "tensor/atomic_file.h"
#include "tensor/creation.h"
#include "tensor/generator.h"
#include "tensor/json_text.h"

#ifdef MASKDET_WITH_CUDA
#include "cuda/allocator.h"
#include "cuda/context.h"
#endif

namespace maskdet::app {

namespace {

struct BenchSettings {
  std::string backbone = "resnet50";
  int64_t fpn_channels = 256;
  int64_t height = 512, width = 512;
  int64_t classes = 2;
  int64_t batch_size = 8;        // training
  int64_t infer_batch_size = 8;  // inference throughput
  int64_t boxes = 4;             // ground-truth boxes per training image
  int64_t warmup = 3;
  int64_t iters = 10;
  std::string device = "cpu";
  std::string mode = "both";
  std::string optimizer = "adamw";
  std::string precision = "tf32";
  double score_threshold = 0.05;
  std::string json;
  uint64_t seed = 1;
  bool no_overlap = false;  // data-parallel: all-reduce the gradients after backward
};

constexpr const char* kSummary =
    "Times the detector on synthetic input: training steps (forward, loss, backward, optimiser step) in images/s,\n"
    "inference with post-processing at batch 1 (latency p50/p95) and at --infer-batch-size (images/s), and peak\n"
    "device memory on CUDA. tools/bench_torchvision.py runs torchvision's RetinaNet in the same configuration.";

void parse_size(const std::string& text, BenchSettings& s) {
  const size_t x = text.find('x');
  std::optional<int64_t> height, width;
  if (x != std::string::npos) {
    height = data::parse_integer(text.substr(0, x));
    width = data::parse_integer(text.substr(x + 1));
  }
  MASKDET_CHECK(height && width, "wants HEIGHTxWIDTH in pixels, e.g. 512x512 or 800x1333, got '", text, "'");
  MASKDET_CHECK(*height >= 32 && *width >= 32 && *height <= 16384 && *width <= 16384,
                "wants sides from 32 to 16384 pixels, got '", text, "'");
  s.height = *height;
  s.width = *width;
}

void bind_bench_flags(cli::Flags& flags, BenchSettings& s) {
  flags.add_choice("--backbone", s.backbone, backbone_names(), "backbone network");
  flags.add("--fpn-channels", s.fpn_channels, "N", "width of the feature pyramid and heads");
  flags.add_custom(
      "--size", "HxW", "input image size in pixels (rounded up to a multiple of 32 as batches are)",
      [&s](const std::string& v) { parse_size(v, s); },
      [&s] { return std::to_string(s.height) + "x" + std::to_string(s.width); });
  flags.add("--classes", s.classes, "N", "object classes (sigmoid outputs per anchor)");
  flags.add("--batch-size", s.batch_size, "N", "images per training step");
  flags.add("--infer-batch-size", s.infer_batch_size, "N", "images per inference call for the throughput figure");
  flags.add("--boxes", s.boxes, "N", "random ground-truth boxes per training image");
  flags.add("--warmup", s.warmup, "N", "untimed repeats before each measurement");
  flags.add("--iters", s.iters, "N", "timed repeats of each measurement");
  flags.add("--device", s.device, "cpu|cuda", "where to run");
  flags.add_choice("--mode", s.mode, {"train", "infer", "both"}, "what to measure");
  flags.add_choice("--optimizer", s.optimizer, {"adamw", "sgd"},
                   "optimiser of the training step, with maskdet train's defaults (lr 0.001, weight decay 0.0001, "
                   "SGD momentum 0.9, gradients clipped to norm 10)");
  flags.add_choice("--precision", s.precision, {"fp32", "tf32"},
                   "CUDA float32 GEMMs and convolutions in full float32 or on TF32 tensor cores (CPU: always fp32)");
  flags.add("--score-threshold", s.score_threshold, "X", "post-processing: candidates below this score are dropped");
  flags.add("--json", s.json, "FILE", "also write the results here (JSON, written atomically)");
  flags.add("--seed", s.seed, "N", "seeds the weights, the images and the boxes");
  flags.add_switch("--no-overlap", s.no_overlap,
                   "data-parallel: all-reduce the gradient buckets after backward instead of during it");
}

void check_bench_settings(const BenchSettings& s) {
  auto require = [](bool ok, const std::string& message) {
    if (!ok) throw cli::UsageError("maskdet bench: " + message);
  };
  require(s.fpn_channels > 0, "--fpn-channels must be > 0, got " + std::to_string(s.fpn_channels));
  require(s.classes > 0, "--classes must be > 0, got " + std::to_string(s.classes));
  require(s.batch_size > 0, "--batch-size must be > 0, got " + std::to_string(s.batch_size));
  require(s.infer_batch_size > 0, "--infer-batch-size must be > 0, got " + std::to_string(s.infer_batch_size));
  require(s.boxes >= 0, "--boxes must be >= 0, got " + std::to_string(s.boxes));
  require(s.warmup >= 0, "--warmup must be >= 0, got " + std::to_string(s.warmup));
  require(s.iters > 0, "--iters must be > 0, got " + std::to_string(s.iters));
  require(s.score_threshold >= 0 && s.score_threshold <= 1,
          "--score-threshold must be in [0, 1], got " + cli::format_double(s.score_threshold));
  try {
    parse_device(s.device);
  } catch (const std::exception&) {
    require(false, "--device wants cpu, cuda or cuda:N, got '" + s.device + "'");
  }
}

int64_t round_up_32(int64_t v) { return (v + 31) / 32 * 32; }

// ---- device plumbing: nothing to do on the CPU ----

void synchronize(Device device) {
#ifdef MASKDET_WITH_CUDA
  if (device.is_cuda()) {
    cuda::DeviceGuard guard(device.index);
    cuda::synchronize();
  }
#endif
}

void start_memory_peak(Device device) {
#ifdef MASKDET_WITH_CUDA
  if (device.is_cuda()) cuda::reset_peak_allocated(device.index);
#endif
}

std::optional<double> memory_peak_mib(Device device) {
#ifdef MASKDET_WITH_CUDA
  if (device.is_cuda()) return static_cast<double>(cuda::allocator_stats(device.index).peak_allocated_bytes) / (1 << 20);
#endif
  return std::nullopt;
}

std::optional<double> memory_reserved_mib(Device device) {
#ifdef MASKDET_WITH_CUDA
  if (device.is_cuda()) return static_cast<double>(cuda::allocator_stats(device.index).reserved_bytes) / (1 << 20);
#endif
  return std::nullopt;
}

// ---- timing ----

// The q-quantile (0..1) of `values`, interpolating linearly between order statistics (numpy's
// default; tools/bench_torchvision.py computes it the same way).
double quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (position - static_cast<double>(below)) * (values[above] - values[below]);
}

// Milliseconds of each of `iters` runs of step(), after `warmup` untimed ones.
std::vector<double> time_ms(const BenchSettings& s, Device device, const std::function<void()>& step) {
  for (int64_t i = 0; i < s.warmup; ++i) {
    step();
    synchronize(device);
  }
  std::vector<double> times;
  for (int64_t i = 0; i < s.iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    step();
    synchronize(device);
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return times;
}

// ---- synthetic input ----

// images: (n, 3, H, W) standard normal, as normalised images are near.
Tensor random_images(int64_t n, int64_t height, int64_t width, Device device, Generator& gen) {
  return randn({n, 3, height, width}, TensorOptions{}.with_device(device), &gen);
}

// `count` boxes with sides from 1/10 to 1/2 of the image's, anywhere inside it; labels uniform.
DetectionTarget random_target(int64_t count, int64_t height, int64_t width, int64_t classes, Device device,
                              Generator& gen) {
  std::vector<float> boxes;
  std::vector<int64_t> labels;
  for (int64_t b = 0; b < count; ++b) {
    const double w = width * (0.1 + 0.4 * gen.uniform()), h = height * (0.1 + 0.4 * gen.uniform());
    const double x1 = (width - w) * gen.uniform(), y1 = (height - h) * gen.uniform();
    boxes.insert(boxes.end(), {static_cast<float>(x1), static_cast<float>(y1), static_cast<float>(x1 + w),
                               static_cast<float>(y1 + h)});
    labels.push_back(static_cast<int64_t>(gen.next_u64() % static_cast<uint64_t>(classes)));
  }
  return {from_vector(boxes, {count, 4}).to(device), from_vector(labels, {count}, {DType::Int64}).to(device)};
}

// A batch as the inference pipeline hands it to detect(): every image fills the whole input and
// is its own original (scale 1).
data::Batch random_batch(int64_t n, int64_t height, int64_t width, Device device, Generator& gen) {
  data::Batch batch;
  batch.images = random_images(n, height, width, device, gen);
  for (int64_t i = 0; i < n; ++i) {
    const data::PixelSize size{static_cast<int>(height), static_cast<int>(width)};
    batch.image_sizes.push_back(size);
    batch.original_sizes.push_back(size);
    batch.scales_x.push_back(1.f);
    batch.scales_y.push_back(1.f);
    batch.indices.push_back(static_cast<size_t>(i));
    batch.image_paths.push_back("synthetic");
  }
  return batch;
}

// ---- results ----

// One figure of the table and of the JSON "figures" object. The keys and labels are
// tools/bench_torchvision.py's too: keep the two in step.
struct Figure {
  std::string key;
  std::string label;
  std::optional<double> value;
  bool is_memory = false;  // "n/a" rather than "-" when absent on the CPU
};

struct Results {
  std::vector<Figure> figures;
  std::vector<double> train_ms, infer_b1_ms, infer_batch_ms, all_reduce_ms, exposed_ms;
  int world_size = 1;
  double gflops = 0;
  int64_t parameters = 0;
};

std::optional<double> maybe_quantile(const std::vector<double>& v, double q) {
  return v.empty() ? std::nullopt : std::optional<double>(quantile(v, q));
}
std::optional<double> maybe_rate(const std::vector<double>& ms, int64_t images) {
  return ms.empty() ? std::nullopt : std::optional<double>(1000.0 * static_cast<double>(images) / quantile(ms, 0.5));
}

std::string precision_name(const BenchSettings& s, Device device) { return device.is_cpu() ? "fp32" : s.precision; }

std::string describe_run(const BenchSettings& s, Device device) {
  char text[512];
  std::snprintf(text, sizeof text,
                "%s + FPN %lld, %lld classes, %lldx%lld (network input %lldx%lld), %s%s, %s, train batch %lld with "
                "%lld boxes per image, %s; %lld warm-up + %lld timed repeats",
                s.backbone.c_str(), static_cast<long long>(s.fpn_channels), static_cast<long long>(s.classes),
                static_cast<long long>(s.height), static_cast<long long>(s.width),
                static_cast<long long>(round_up_32(s.height)), static_cast<long long>(round_up_32(s.width)),
                device.str().c_str(),
                device.is_cpu() ? (" (" + std::to_string(omp_get_max_threads()) + " threads)").c_str() : "",
                precision_name(s, device).c_str(), static_cast<long long>(s.batch_size),
                static_cast<long long>(s.boxes), s.optimizer.c_str(), static_cast<long long>(s.warmup),
                static_cast<long long>(s.iters));
  return text;
}

void print_table(const BenchSettings& s, Device device, const Results& r) {
  std::printf("maskdet bench: %s\n", describe_run(s, device).c_str());
  if (r.world_size > 1)
    std::printf("data-parallel: %d ranks, each a shard of the batch of %lld; figures from rank 0\n", r.world_size,
                static_cast<long long>(s.batch_size));
  std::printf("forward: %.2f GFLOPs per image (convolutions, 2 per multiply-add); %.2f M parameters\n\n", r.gflops,
              static_cast<double>(r.parameters) / 1e6);
  std::printf("%-44s %12s\n", "figure", "maskdet");
  for (const Figure& f : r.figures) {
    char value[32];
    if (f.value) std::snprintf(value, sizeof value, "%.2f", *f.value);
    else std::snprintf(value, sizeof value, "%s", f.is_memory && device.is_cpu() ? "n/a" : "-");
    std::printf("%-44s %12s\n", f.label.c_str(), value);
  }
  std::fflush(stdout);
}

std::string results_json(const BenchSettings& s, Device device, const Results& r) {
  using Json = nlohmann::ordered_json;
  Json figures = Json::object();
  for (const Figure& f : r.figures) figures[f.key] = f.value ? Json(*f.value) : Json(nullptr);
  const Json out = {{"program", "maskdet bench"},
                    {"config",
                     {{"backbone", s.backbone},
                      {"fpn_channels", s.fpn_channels},
                      {"height", s.height},
                      {"width", s.width},
                      {"input_height", round_up_32(s.height)},
                      {"input_width", round_up_32(s.width)},
                      {"classes", s.classes},
                      {"batch_size", s.batch_size},
                      {"infer_batch_size", s.infer_batch_size},
                      {"boxes", s.boxes},
                      {"warmup", s.warmup},
                      {"iters", s.iters},
                      {"device", device.str()},
                      {"threads", omp_get_max_threads()},
                      {"precision", precision_name(s, device)},
                      {"optimizer", s.optimizer},
                      {"score_threshold", s.score_threshold},
                      {"mode", s.mode},
                      {"seed", static_cast<int64_t>(s.seed)},
                      {"ranks", r.world_size}}},
                    {"parameters", r.parameters},
                    {"forward_gflops_per_image", r.gflops},
                    {"figures", figures},
                    {"samples_ms", {{"train_step", r.train_ms}, {"infer_b1", r.infer_b1_ms}, {"infer_batch", r.infer_batch_ms}}}};
  return json::dump(out, 2) + "\n";
}

}  // namespace

int bench_command(const std::vector<std::string>& args) {
  BenchSettings s;
  cli::Flags flags("maskdet bench", kSummary);
  bind_bench_flags(flags, s);
  if (cli::Flags::wants_help(args)) {
    std::cout << flags.usage();
    return 0;
  }
  flags.parse(args);
  check_bench_settings(s);
  // Under a launcher rank 0 reports (join_run_world silences the others), and only training is
  // measured.
  const std::unique_ptr<dist::ProcessGroup> group = join_run_world("bench", s.batch_size, std::chrono::seconds(300)).group;
  const bool parallel = group->world_size() > 1;
  if (parallel) s.mode = "train";
  const Device device = usable_device(s.device);
#ifndef MASKDET_WITH_CUDA_KERNELS
  // Said here, not at the first op's "no CUDA kernel" deep inside the model.
  MASKDET_CHECK(device.is_cpu(), "--device ", s.device,
                ": this build keeps CUDA tensors off the CUDA kernels; build with -DMASKDET_CUDA_KERNELS=ON");
#endif
#ifdef MASKDET_WITH_CUDA
  if (device.is_cuda()) cuda::set_allow_tf32(s.precision == "tf32");
#endif

  // The model and optimiser `maskdet train` would build from these flags and its defaults.
  TrainSettings train;
  train.backbone = s.backbone;
  train.weights = "none";  // trainable batch norm throughout, whatever --weights would default to
  train.fpn_channels = s.fpn_channels;
  train.optimizer = s.optimizer;
  RetinaNetConfig config = retinanet_config(train, static_cast<size_t>(s.classes));
  config.postprocess.score_threshold = s.score_threshold;
  manual_seed(s.seed);
  auto model = std::make_shared<RetinaNet>(config);
  model->to(device);

  const int64_t height = round_up_32(s.height), width = round_up_32(s.width);
  Generator gen(s.seed + 1);
  Results r;
  r.parameters = model->parameter_count(/*trainable_only=*/true);
  r.gflops = forward_flops(*model, height, width) / 1e9;

  std::optional<double> train_peak, infer_peak;
  if (s.mode != "infer") {
    const auto [shard_begin, shard_end] =
        data::batch_shard(static_cast<size_t>(s.batch_size), group->rank(), group->world_size());
    const auto shard = static_cast<int64_t>(shard_end - shard_begin);
    const Tensor images = random_images(shard, height, width, device, gen);
    std::vector<DetectionTarget> targets;
    for (int64_t i = 0; i < shard; ++i)
      targets.push_back(random_target(s.boxes, s.height, s.width, s.classes, device, gen));
    std::vector<Tensor> params = trainable_parameters(*model);
    std::unique_ptr<optim::Optimizer> optimizer = make_optimizer(train, *model);
    std::optional<dist::GradientBuckets> buckets;
    if (parallel) buckets.emplace(params);
    DataParallelShare share{group.get(), buckets ? &*buckets : nullptr,
                            static_cast<double>(shard) / static_cast<double>(s.batch_size), !s.no_overlap};
    model->train();
    start_memory_peak(device);
    int64_t step = 0;
    r.train_ms = time_ms(s, device, [&] {
      ++step;
      training_step(*model, *optimizer, params, images, targets, train.clip_grad_norm,
                    [&](const char* what, double value, const LossValues&) {
                      throw DivergedError(std::string("benchmark training diverged: ") + what + " is " +
                                          std::to_string(value) + " at step " + std::to_string(step));
                    },
                    parallel ? &share : nullptr);
      if (parallel) r.all_reduce_ms.push_back(1000 * share.all_reduce_seconds);
      if (parallel) r.exposed_ms.push_back(1000 * share.exposed_seconds);
    });
    // time_ms ran the warm-up steps first: keep the timed ones.
    if (parallel) {
      r.all_reduce_ms.erase(r.all_reduce_ms.begin(), r.all_reduce_ms.end() - static_cast<long>(s.iters));
      r.exposed_ms.erase(r.exposed_ms.begin(), r.exposed_ms.end() - static_cast<long>(s.iters));
    }
    r.world_size = group->world_size();
    train_peak = memory_peak_mib(device);
    // Inference should not be charged for the optimiser's state and the gradients.
    optimizer.reset();
    model->zero_grad();
  }

  if (s.mode != "train") {
    model->eval();
    const data::Batch single = random_batch(1, height, width, device, gen);
    const data::Batch many = random_batch(s.infer_batch_size, height, width, device, gen);
    start_memory_peak(device);
    r.infer_b1_ms = time_ms(s, device, [&] { detect(*model, single, device); });
    r.infer_batch_ms = time_ms(s, device, [&] { detect(*model, many, device); });
    infer_peak = memory_peak_mib(device);
  }

  const std::string b = std::to_string(s.batch_size), n = std::to_string(s.infer_batch_size);
  r.figures = {
      {"train_step_ms_p50", "train step, batch " + b + " (ms, p50)", maybe_quantile(r.train_ms, 0.5)},
      {"train_step_ms_p95", "train step, batch " + b + " (ms, p95)", maybe_quantile(r.train_ms, 0.95)},
      {"train_images_per_s", "train throughput (images/s)", maybe_rate(r.train_ms, s.batch_size)},
      {"all_reduce_ms_p50", "gradient all-reduce per step (ms, p50)", maybe_quantile(r.all_reduce_ms, 0.5)},
      {"all_reduce_exposed_ms_p50", "after backward: its wait + copy-back (ms, p50)", maybe_quantile(r.exposed_ms, 0.5)},
      {"infer_b1_ms_p50", "inference, batch 1 (ms, p50)", maybe_quantile(r.infer_b1_ms, 0.5)},
      {"infer_b1_ms_p95", "inference, batch 1 (ms, p95)", maybe_quantile(r.infer_b1_ms, 0.95)},
      {"infer_batch_ms_p50", "inference, batch " + n + " (ms, p50)", maybe_quantile(r.infer_batch_ms, 0.5)},
      {"infer_images_per_s", "inference throughput, batch " + n + " (images/s)",
       maybe_rate(r.infer_batch_ms, s.infer_batch_size)},
      {"train_peak_mib", "peak device memory, training (MiB)", train_peak, true},
      {"infer_peak_mib", "peak device memory, inference (MiB)", infer_peak, true},
      {"reserved_mib", "device memory reserved at the end (MiB)", memory_reserved_mib(device), true},
  };
  print_table(s, device, r);
  if (!s.json.empty() && group->is_leader()) {
    write_file_atomically(s.json, results_json(s, device, r));
    std::printf("\nwrote %s\n", s.json.c_str());
  }
  return 0;
}

}  // namespace maskdet::app
