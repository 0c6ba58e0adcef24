// conv2d_bench: times one float32 conv2d forward + backward (gradients for x, weight and bias)
// at a RetinaNet head's size (N=2, 256 -> 256 channels, 3x3, padding 1, 64x64) on the CPU,
// then runs the PyTorch counterpart (tools/bench_conv2d_torch.py) with the same thread count,
// warm-up and repeats, and prints both medians and their ratio.
//
//   conv2d_bench [--threads N] [--warmup W] [--repeats R] [--python PATH]
//
// N (default: the machine's core count) is applied to both OpenMP and OpenBLAS, which keeps
// its own thread pool. Without python or torch, only our figure is printed.
#include <cblas.h>
#include <omp.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
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
  int warmup = 3;
  int repeats = 10;
  std::string python = "/usr/bin/python3";  // Debian's interpreter, the one with python3-torch
};

// The benchmarked problem, handed to the torch script too.
constexpr int64_t kBatch = 2, kInChannels = 256, kOutChannels = 256, kSize = 64, kKernel = 3, kPadding = 1;

Settings parse_args(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--threads" && has_value) s.threads = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--warmup" && has_value) s.warmup = std::max(0, std::atoi(argv[++i]));
    else if (arg == "--repeats" && has_value) s.repeats = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--python" && has_value) s.python = argv[++i];
    else {
      std::cerr << "usage: conv2d_bench [--threads N] [--warmup W] [--repeats R] [--python PATH]\n";
      std::exit(arg == "--help" || arg == "-h" ? 0 : 2);
    }
  }
  return s;
}

double time_ours(const Settings& s) {
  Generator gen(0);
  Tensor x = randn({kBatch, kInChannels, kSize, kSize}, {}, &gen).set_requires_grad(true);
  Tensor weight = randn({kOutChannels, kInChannels, kKernel, kKernel}, {}, &gen, 0.0, 0.02).set_requires_grad(true);
  Tensor bias = zeros({kOutChannels}).set_requires_grad(true);
  const Conv2dOptions options = Conv2dOptions().padding(kPadding);
  Tensor grad_out = randn({kBatch, kOutChannels, kSize, kSize}, {}, &gen);
  return bench::median_ms(s.warmup, s.repeats, [&] {
    // Fresh gradients each time, as the torch side does: no accumulation pass.
    x.zero_grad(), weight.zero_grad(), bias.zero_grad();
    conv2d(x, weight, bias, options).backward(grad_out);
  });
}

// The torch median, or nothing (with the reason on stderr) when python or torch is missing.
std::optional<double> time_torch(const Settings& s) {
  const std::string command = s.python + " " + MASKDET_SOURCE_DIR + "/tools/bench_conv2d_torch.py --threads " +
                              std::to_string(s.threads) + " --warmup " + std::to_string(s.warmup) +
                              " --repeats " + std::to_string(s.repeats) + " --batch " + std::to_string(kBatch) +
                              " --in-channels " + std::to_string(kInChannels) + " --out-channels " +
                              std::to_string(kOutChannels) + " --size " + std::to_string(kSize) + " --kernel " +
                              std::to_string(kKernel) + " --padding " + std::to_string(kPadding);
  return bench::torch_median_ms(command);
}

}  // namespace

int main(int argc, char** argv) {
  const Settings s = parse_args(argc, argv);
  omp_set_num_threads(s.threads);
  openblas_set_num_threads(s.threads);
  std::printf("conv2d float32 forward+backward, x (%lld, %lld, %lld, %lld), weight (%lld, %lld, %lld, %lld), "
              "padding %lld\n",
              static_cast<long long>(kBatch), static_cast<long long>(kInChannels), static_cast<long long>(kSize),
              static_cast<long long>(kSize), static_cast<long long>(kOutChannels),
              static_cast<long long>(kInChannels), static_cast<long long>(kKernel), static_cast<long long>(kKernel),
              static_cast<long long>(kPadding));
  const std::string core = openblas_get_corename();
  std::printf("%d threads, %d warm-up, median of %d; OpenBLAS kernels: %s\n", s.threads, s.warmup, s.repeats,
              core.c_str());
  // OpenBLAS picks its kernels by CPU model and falls back to AVX2 ones on models newer than
  // itself (0.3.21 on a Zen 5 takes Haswell's), while oneDNN under PyTorch uses AVX-512.
  if (__builtin_cpu_supports("avx512f") && (core == "Haswell" || core == "Zen"))
    std::printf("note: this CPU has AVX-512, which the %s kernels leave unused; OPENBLAS_CORETYPE=SKYLAKEX in the\n"
                "      environment selects OpenBLAS's AVX-512 kernels\n",
                core.c_str());
  std::fflush(stdout);
  const double ours = time_ours(s);
  std::printf("maskdet: %.1f ms\n", ours);
  std::fflush(stdout);
  const auto torch = time_torch(s);
  if (!torch) return 0;
  std::printf("pytorch: %.1f ms\n", *torch);
  std::printf("ratio maskdet / pytorch: %.2f\n", ours / *torch);
  return 0;
}
