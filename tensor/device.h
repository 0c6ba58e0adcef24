// Where a tensor's memory lives.
#pragma once
#include <string>

namespace maskdet {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& o) const { return type == o.type && (is_cpu() || index == o.index); }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// Parses "cpu", "cuda" or "cuda:N"; throws on anything else.
Device parse_device(const std::string& s);

// True when this build has CUDA and a device can be used (a driver and at least one GPU).
bool cuda_available();
// Why cuda_available() is false, for test skips and error messages; empty when it is true.
std::string cuda_unavailable_reason();

}  // namespace maskdet
