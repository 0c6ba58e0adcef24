// Timing helpers shared by the CPU benchmarks: the median of repeated steps, and the median a
// PyTorch counterpart script prints (`median_ms <value>`), so both sides are measured alike.
#pragma once
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace maskdet::bench {

template <class Step>
double median_ms(int warmup, int repeats, const Step& step) {
  for (int i = 0; i < warmup; ++i) step();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    step();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  const size_t mid = times.size() / 2;
  return times.size() % 2 ? times[mid] : 0.5 * (times[mid - 1] + times[mid]);
}

// Runs `command` (a tools/bench_*_torch.py line) and returns the median it prints, or nothing
// (with the reason on stderr) when python or torch is missing. Other lines are echoed once.
inline std::optional<double> torch_median_ms(const std::string& command, bool echo = true) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    std::cerr << "could not start " << command << "\n";
    return std::nullopt;
  }
  std::optional<double> median;
  char line[256];
  while (std::fgets(line, sizeof line, pipe)) {
    double value = 0;
    if (std::sscanf(line, "median_ms %lf", &value) == 1) median = value;
    else if (echo) std::printf("pytorch side: %s", line);  // its version and thread count
  }
  const int status = pclose(pipe);
  if (!median)
    std::cerr << "no PyTorch figure (" << command << " exited with status "
              << (WIFEXITED(status) ? WEXITSTATUS(status) : status) << ")\n";
  return median;
}

}  // namespace maskdet::bench
