// depthwise_bench: float32 depthwise 3x3 convolution, forward + backward (gradients for x, weight
// and bias), at every depthwise layer shape of MobileNetV2 (features.1 .. .17) for a batch of
// images, against PyTorch's CPU depthwise convolution (tools/bench_conv2d_torch.py --groups C)
// with the same threads, warm-up and repeats, in one run. Prints each shape's medians and ratio,
// and the network's total (each shape times the number of layers that have it).
//
//   depthwise_bench [--threads N] [--batch B] [--size S] [--warmup W] [--repeats R] [--python PATH]
//
// S is the image side (default 384, the face-mask detector's training size): features.1 sees
// S/2, the last layers S/32. Without python or torch, only our figures are printed.
#include <cblas.h>
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "autograd/ops.h"
#include "bench/bench_timing.h"
#include "tensor/creation.h"

namespace {

using namespace maskdet;

struct Settings {
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int64_t batch = 8, size = 384;
  int warmup = 2, repeats = 7;
  std::string python = "/usr/bin/python3";  // Debian's interpreter, the one with python3-torch
};

// One depthwise shape of MobileNetV2: channels (expansion 6 x the block's input), the input
// side as a fraction 1/divisor of the image side, the stride, and how many layers share it.
struct Layer {
  const char* blocks;
  int64_t channels, divisor, stride, count;
};
const std::vector<Layer> kLayers = {
    {"1", 32, 2, 1, 1},      {"2", 96, 2, 2, 1},       {"3", 144, 4, 1, 1},     {"4", 144, 4, 2, 1},
    {"5-6", 192, 8, 1, 2},   {"7", 192, 8, 2, 1},      {"8-11", 384, 16, 1, 4}, {"12-13", 576, 16, 1, 2},
    {"14", 576, 16, 2, 1},   {"15-17", 960, 32, 1, 3},
};

Settings parse_args(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--threads" && has_value) s.threads = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--batch" && has_value) s.batch = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--size" && has_value) s.size = std::max(32, std::atoi(argv[++i]));
    else if (arg == "--warmup" && has_value) s.warmup = std::max(0, std::atoi(argv[++i]));
    else if (arg == "--repeats" && has_value) s.repeats = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--python" && has_value) s.python = argv[++i];
    else {
      std::cerr << "usage: depthwise_bench [--threads N] [--batch B] [--size S] [--warmup W] [--repeats R] "
                   "[--python PATH]\n";
      std::exit(arg == "--help" || arg == "-h" ? 0 : 2);
    }
  }
  return s;
}

double time_ours(const Settings& s, const Layer& layer, int64_t side) {
  Generator gen(0);
  Tensor x = randn({s.batch, layer.channels, side, side}, {}, &gen).set_requires_grad(true);
  Tensor weight = randn({layer.channels, 1, 3, 3}, {}, &gen, 0.0, 0.3).set_requires_grad(true);
  Tensor bias = zeros({layer.channels}).set_requires_grad(true);
  const Conv2dOptions options = Conv2dOptions().padding(1).stride(layer.stride).group_count(layer.channels);
  const int64_t out_side = (side + 2 - 3) / layer.stride + 1;
  Tensor grad_out = randn({s.batch, layer.channels, out_side, out_side}, {}, &gen);
  return bench::median_ms(s.warmup, s.repeats, [&] {
    x.zero_grad(), weight.zero_grad(), bias.zero_grad();
    conv2d(x, weight, bias, options).backward(grad_out);
  });
}

std::optional<double> time_torch(const Settings& s, const Layer& layer, int64_t side, bool echo) {
  const std::string command =
      s.python + " " + MASKDET_SOURCE_DIR + "/tools/bench_conv2d_torch.py --threads " + std::to_string(s.threads) +
      " --warmup " + std::to_string(s.warmup) + " --repeats " + std::to_string(s.repeats) + " --batch " +
      std::to_string(s.batch) + " --in-channels " + std::to_string(layer.channels) + " --out-channels " +
      std::to_string(layer.channels) + " --groups " + std::to_string(layer.channels) + " --size " +
      std::to_string(side) + " --kernel 3 --padding 1 --stride " + std::to_string(layer.stride);
  return bench::torch_median_ms(command, echo);
}

}  // namespace

int main(int argc, char** argv) {
  const Settings s = parse_args(argc, argv);
  omp_set_num_threads(s.threads);
  openblas_set_num_threads(s.threads);
  std::printf("depthwise 3x3 conv2d float32 forward+backward (x, weight, bias), MobileNetV2's layers at %lldx%lld "
              "images, batch %lld\n%d threads, %d warm-up, median of %d\n",
              static_cast<long long>(s.size), static_cast<long long>(s.size), static_cast<long long>(s.batch),
              s.threads, s.warmup, s.repeats);
  std::printf("%-8s %-22s %12s %12s %8s\n", "blocks", "x (N, C, H, W) stride", "maskdet ms", "pytorch ms", "ratio");
  double total_ours = 0, total_torch = 0;
  bool have_torch = true;
  for (size_t i = 0; i < kLayers.size(); ++i) {
    const Layer& layer = kLayers[i];
    const int64_t side = s.size / layer.divisor;
    const double ours = time_ours(s, layer, side);
    const auto torch = time_torch(s, layer, side, i == 0);
    char shape[64];
    std::snprintf(shape, sizeof shape, "(%lld, %lld, %lld, %lld) s%lld", static_cast<long long>(s.batch),
                  static_cast<long long>(layer.channels), static_cast<long long>(side), static_cast<long long>(side),
                  static_cast<long long>(layer.stride));
    total_ours += ours * static_cast<double>(layer.count);
    if (torch) {
      total_torch += *torch * static_cast<double>(layer.count);
      std::printf("%-8s %-22s %12.2f %12.2f %8.2f\n", layer.blocks, shape, ours, *torch, ours / *torch);
    } else {
      have_torch = false;
      std::printf("%-8s %-22s %12.2f %12s %8s\n", layer.blocks, shape, ours, "-", "-");
    }
    std::fflush(stdout);
  }
  std::printf("all 17 depthwise layers: maskdet %.1f ms", total_ours);
  if (have_torch) std::printf(", pytorch %.1f ms, ratio maskdet / pytorch %.2f", total_torch, total_ours / total_torch);
  std::printf("\n");
  return 0;
}
