// cuda_bench: times maskdet's CUDA kernels, called directly (cuda::), at the sizes that dominate
// training and inference: convolution forward / backward data / backward filter at ResNet-50
// layer shapes (batch 16, float32), batch norm forward + backward, the fused sigmoid focal loss
// over 100k anchors x 2 classes (loss and gradient), and NMS over 10k boxes. Each figure is the
// median over repeats of CUDA-event time on maskdet's stream, after warm-up. Where a Python with
// CUDA PyTorch is found, tools/bench_cuda_torch.py times the same cases with torch.cuda.Event
// (torchvision's sigmoid_focal_loss and nms when torchvision is there, the same TF32 setting),
// and the table shows both and their ratio. What it measures and how to run it on a GPU
// machine: docs/BENCHMARKS.md.
//
//   cuda_bench [--warmup W] [--repeats R] [--no-tf32] [--cudnn-benchmark] [--python PATH] [--script PATH]
//
// cuDNN convolution algorithms come from cuDNN's heuristics on both sides by default;
// --cudnn-benchmark (or MASKDET_CUDNN_BENCHMARK=1) times them instead, on both sides
// (torch.backends.cudnn.benchmark).
// Exits 0 with a message where the build has no CUDA or no GPU can be used.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#ifdef MASKDET_WITH_CUDA
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "cuda/context.h"
#include "cuda/cudnn_conv_plan.h"
#include "tensor/creation.h"
#include "tensor/kernels/batch_norm.h"
#include "tensor/kernels/boxes.h"
#include "tensor/kernels/conv2d.h"
#include "tensor/kernels/loss.h"

namespace {

using namespace maskdet;

struct Settings {
  int warmup = 5;
  int repeats = 20;
  bool tf32 = true;  // PyTorch's default for cuDNN convolutions
  bool cudnn_benchmark = false;
  std::string python;  // empty: /usr/bin/python3, then python3 on PATH
  std::string script = std::string(MASKDET_SOURCE_DIR) + "/tools/bench_cuda_torch.py";
};

Settings parse_args(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--warmup" && has_value) s.warmup = std::max(0, std::atoi(argv[++i]));
    else if (arg == "--repeats" && has_value) s.repeats = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--no-tf32") s.tf32 = false;
    else if (arg == "--cudnn-benchmark") s.cudnn_benchmark = true;
    else if (arg == "--python" && has_value) s.python = argv[++i];
    else if (arg == "--script" && has_value) s.script = argv[++i];
    else {
      std::cerr << "usage: cuda_bench [--warmup W] [--repeats R] [--no-tf32] [--cudnn-benchmark] [--python PATH] "
                   "[--script PATH]\n";
      std::exit(arg == "--help" || arg == "-h" ? 0 : 2);
    }
  }
  const char* env = std::getenv("MASKDET_CUDNN_BENCHMARK");
  if (env && std::string(env) == "1") s.cudnn_benchmark = true;
  return s;
}

// One timed case. `name` is the key tools/bench_cuda_torch.py prints for the same case; keep
// the two lists in step. setup() allocates the case's tensors and returns the timed step, so
// only one case's buffers are alive at a time.
struct Case {
  std::string name;
  std::string what;
  std::function<std::function<void()>()> setup;
};

constexpr int64_t kBatch = 16;

Tensor gpu_randn(const Shape& shape, Generator& gen, double std = 1.0) {
  return randn(shape, {DType::Float32, Device::cuda()}, &gen, 0.0, std);
}
Tensor gpu_empty(const Shape& shape, DType dtype = DType::Float32) { return empty(shape, {dtype, Device::cuda()}); }

// ResNet-50 convolutions: (in channels, out channels, kernel, spatial size), stride 1, "same"
// padding.
struct ConvShape {
  int64_t in, out, kernel, size;
};
const ConvShape kConvShapes[] = {{64, 64, 3, 56}, {128, 128, 3, 28}, {256, 256, 3, 14}, {512, 512, 3, 7}, {256, 64, 1, 56}};

std::string conv_name(const ConvShape& c) {
  return "conv" + std::to_string(c.kernel) + "x" + std::to_string(c.kernel) + "_" + std::to_string(c.in) + "_" +
         std::to_string(c.out) + "_" + std::to_string(c.size);
}

// The NMS boxes and scores, from integer formulas the Python side repeats exactly, so that
// both suppress the same boxes: centres spread by two large primes, sides 16..79, scores a
// multiplicative hash in [0, 1). Dense enough that most boxes are suppressed.
constexpr int64_t kNmsBoxes = 10000;
constexpr double kNmsThreshold = 0.5;
Tensor nms_boxes() {
  std::vector<float> v;
  for (uint64_t k = 0; k < kNmsBoxes; ++k) {
    const double cx = static_cast<double>((k * 7919) % 1000), cy = static_cast<double>((k * 104729) % 1000);
    const double w = 16.0 + static_cast<double>((k * 31) % 64), h = 16.0 + static_cast<double>((k * 17) % 64);
    v.insert(v.end(), {static_cast<float>(cx - w / 2), static_cast<float>(cy - h / 2), static_cast<float>(cx + w / 2),
                       static_cast<float>(cy + h / 2)});
  }
  return from_vector(v, {kNmsBoxes, 4}, {DType::Float32, Device::cuda()});
}
Tensor nms_scores() {
  std::vector<float> v;
  for (uint64_t k = 0; k < kNmsBoxes; ++k)
    v.push_back(static_cast<float>(static_cast<double>((k * 2654435761ULL) % 4294967296ULL) / 4294967296.0));
  return from_vector(v, {kNmsBoxes}, {DType::Float32, Device::cuda()});
}

std::vector<Case> make_cases(int64_t& nms_kept) {
  std::vector<Case> cases;
  for (const ConvShape& c : kConvShapes) {
    Conv2dParams p;
    p.pad_h = p.pad_w = c.kernel / 2;
    const Shape x_shape{kBatch, c.in, c.size, c.size}, w_shape{c.out, c.in, c.kernel, c.kernel};
    const Shape y_shape{kBatch, c.out, c.size, c.size};
    const std::string shape = std::to_string(c.kernel) + "x" + std::to_string(c.kernel) + " " + std::to_string(c.in) +
                              "->" + std::to_string(c.out) + " at " + std::to_string(c.size) + "x" +
                              std::to_string(c.size);
    cases.push_back({conv_name(c) + "_fwd", "conv " + shape + " forward", [=] {
                       Generator gen(1);
                       const Tensor x = gpu_randn(x_shape, gen), w = gpu_randn(w_shape, gen, 0.05);
                       const Tensor y = gpu_empty(y_shape);
                       return std::function<void()>([=] { cuda::conv2d_forward(x, w, Tensor(), y, p); });
                     }});
    cases.push_back({conv_name(c) + "_bwd_data", "conv " + shape + " backward data", [=] {
                       Generator gen(2);
                       const Tensor dy = gpu_randn(y_shape, gen), w = gpu_randn(w_shape, gen, 0.05);
                       const Tensor dx = gpu_empty(x_shape);
                       return std::function<void()>([=] { cuda::conv2d_backward_data(dy, w, dx, p); });
                     }});
    cases.push_back({conv_name(c) + "_bwd_filter", "conv " + shape + " backward filter", [=] {
                       Generator gen(3);
                       const Tensor dy = gpu_randn(y_shape, gen), x = gpu_randn(x_shape, gen);
                       const Tensor dw = gpu_empty(w_shape);
                       return std::function<void()>([=] { cuda::conv2d_backward_filter(dy, x, dw, p); });
                     }});
  }
  cases.push_back({"batch_norm_256_56", "batch norm (16, 256, 56, 56) forward + backward", [] {
                     Generator gen(4);
                     const Shape shape{kBatch, 256, 56, 56};
                     const Tensor x = gpu_randn(shape, gen), dy = gpu_randn(shape, gen);
                     const Tensor weight = gpu_randn({256}, gen), bias = gpu_randn({256}, gen);
                     const Tensor running_mean = gpu_randn({256}, gen);
                     const Tensor running_var = ones({256}).to(Device::cuda());
                     const Tensor y = gpu_empty(shape), dx = gpu_empty(shape);
                     const Tensor mean = gpu_empty({256}), invstd = gpu_empty({256});
                     const Tensor dweight = gpu_empty({256}), dbias = gpu_empty({256});
                     return std::function<void()>([=] {
                       cuda::batch_norm_forward_training(x, weight, bias, running_mean, running_var, 0.1, 1e-5, y, mean,
                                                         invstd);
                       cuda::batch_norm_backward(dy, x, weight, mean, invstd, 1e-5, dx, dweight, dbias);
                     });
                   }});
  cases.push_back({"focal_100k_x2", "sigmoid focal loss 100k anchors x 2 classes, loss + grad", [] {
                     Generator gen(5);
                     const Shape shape{100000, 2};
                     const Tensor logits = gpu_randn(shape, gen, 2.0);
                     // About 1% positives, as RetinaNet's anchors.
                     const Tensor u = rand(shape, {}, &gen);
                     std::vector<float> t;
                     for (double v : u.to_vector<double>()) t.push_back(v < 0.01 ? 1.0f : 0.0f);
                     const Tensor targets = from_vector(t, shape, {DType::Float32, Device::cuda()});
                     const Tensor loss = gpu_empty(shape), grad = gpu_empty(shape);
                     return std::function<void()>(
                         [=] { cuda::sigmoid_focal_loss(logits, targets, Tensor(), 0.25, 2.0, loss, grad); });
                   }});
  cases.push_back({"nms_10k", "nms 10k boxes, IoU 0.5 (includes the num_kept sync)", [&nms_kept] {
                     const Tensor boxes = nms_boxes(), scores = nms_scores();
                     const Tensor keep = gpu_empty({kNmsBoxes}, DType::Int64);
                     return std::function<void()>(
                         [=, &nms_kept] { cuda::nms(boxes, scores, kNmsThreshold, keep, nms_kept); });
                   }});
  return cases;
}

// Median CUDA-event time of step() on maskdet's stream, in ms.
double median_ms(const Settings& s, const std::function<void()>& step) {
  for (int i = 0; i < s.warmup; ++i) step();
  cuda::synchronize();
  cudaStream_t stream = cuda::current_stream();
  cudaEvent_t start, stop;
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  std::vector<double> times;
  for (int i = 0; i < s.repeats; ++i) {
    CUDA_CHECK(cudaEventRecord(start, stream));
    step();
    CUDA_CHECK(cudaEventRecord(stop, stream));
    CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(ms);
  }
  CUDA_CHECK(cudaEventDestroy(start));
  CUDA_CHECK(cudaEventDestroy(stop));
  std::sort(times.begin(), times.end());
  const size_t mid = times.size() / 2;
  return times.size() % 2 ? times[mid] : 0.5 * (times[mid - 1] + times[mid]);
}

// The first interpreter that imports torch with CUDA, or nothing.
std::optional<std::string> find_python(const Settings& s) {
  const std::vector<std::string> candidates =
      s.python.empty() ? std::vector<std::string>{"/usr/bin/python3", "python3"} : std::vector<std::string>{s.python};
  for (const std::string& py : candidates) {
    const std::string probe = py + " -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' "
                                   ">/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return py;
  }
  return std::nullopt;
}

struct TorchFigures {
  std::map<std::string, double> median_ms;
  std::optional<int64_t> nms_kept;
};

// Runs the PyTorch side and parses its "case NAME MS" and "nms_kept N" lines; other lines
// (versions, device, what was skipped) are echoed.
std::optional<TorchFigures> time_torch(const Settings& s) {
  const auto python = find_python(s);
  if (!python) {
    std::printf("no Python that imports torch with CUDA (tried %s): maskdet figures only\n",
                s.python.empty() ? "/usr/bin/python3 and python3" : s.python.c_str());
    return std::nullopt;
  }
  std::string script = s.script;
  if (!std::filesystem::exists(script) && std::filesystem::exists("tools/bench_cuda_torch.py"))
    script = "tools/bench_cuda_torch.py";  // run from a copy of the repository elsewhere
  const std::string command = *python + " " + script + " --warmup " + std::to_string(s.warmup) + " --repeats " +
                              std::to_string(s.repeats) + (s.tf32 ? " --tf32" : " --no-tf32") +
                              (s.cudnn_benchmark ? " --cudnn-benchmark" : "");
  std::fflush(stdout);
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    std::printf("could not start %s\n", command.c_str());
    return std::nullopt;
  }
  TorchFigures figures;
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    char name[128];
    double ms = 0;
    long long kept = 0;
    if (std::sscanf(line, "case %127s %lf", name, &ms) == 2) figures.median_ms[name] = ms;
    else if (std::sscanf(line, "nms_kept %lld", &kept) == 1) figures.nms_kept = kept;
    else std::printf("pytorch side: %s", line);
  }
  const int status = pclose(pipe);
  if (status != 0)
    std::printf("%s exited with status %d\n", command.c_str(), WIFEXITED(status) ? WEXITSTATUS(status) : status);
  return figures;
}

int run(const Settings& s) {
  cuda::set_allow_tf32(s.tf32);
  cuda::set_cudnn_benchmark(s.cudnn_benchmark);
  cudaDeviceProp prop{};
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  std::printf("device: %s; float32, batch %lld; TF32 %s; cuDNN algorithms by %s; %d warm-up, median of %d "
              "(CUDA events)\n",
              prop.name, static_cast<long long>(kBatch), s.tf32 ? "on" : "off",
              s.cudnn_benchmark ? "timing (benchmark)" : "heuristics", s.warmup, s.repeats);
  std::fflush(stdout);

  int64_t nms_kept = -1;
  std::vector<std::pair<Case, double>> ours;
  for (Case& c : make_cases(nms_kept)) {
    const std::function<void()> step = c.setup();
    const double ms = median_ms(s, step);
    std::printf("  %-28s %9.3f ms\n", c.name.c_str(), ms);
    std::fflush(stdout);
    ours.emplace_back(std::move(c), ms);
  }
  const auto torch = time_torch(s);

  std::printf("\n%-28s %-58s %12s %12s %9s\n", "case", "what", "maskdet ms", "pytorch ms", "ratio");
  for (const auto& [c, ms] : ours) {
    std::printf("%-28s %-58s %12.3f", c.name.c_str(), c.what.c_str(), ms);
    std::optional<double> theirs;
    if (torch) {
      const auto it = torch->median_ms.find(c.name);
      if (it != torch->median_ms.end()) theirs = it->second;
    }
    if (theirs) std::printf(" %12.3f %9.2f\n", *theirs, ms / *theirs);
    else std::printf(" %12s %9s\n", "-", "-");
  }
  std::printf("ratio = maskdet / pytorch (below 1: maskdet is faster)\n");
  std::printf("nms kept: maskdet %lld", static_cast<long long>(nms_kept));
  if (torch && torch->nms_kept) std::printf(", torchvision %lld", static_cast<long long>(*torch->nms_kept));
  std::printf(" of %lld boxes\n", static_cast<long long>(kNmsBoxes));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Settings s = parse_args(argc, argv);
  if (!maskdet::cuda_available()) {
    std::printf("cuda_bench: no usable GPU (%s); nothing to time\n", maskdet::cuda_unavailable_reason().c_str());
    return 0;
  }
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_bench: %s\n", e.what());
    return 1;
  }
}

#else  // !MASKDET_WITH_CUDA

int main() {
  std::printf("cuda_bench: built without CUDA; nothing to time\n");
  return 0;
}

#endif
