// The parity fixtures' weights, regenerated instead of stored: tools/make_parity_fixtures.py
// fills every state-dict entry of torchvision's model from this counter-based generator and
// stores only each entry's range as "init.<name>" = [lo, hi] (float64); this file makes the same
// values for the maskdet model. Element i of the entry called `name`:
//   x = fnv1a64(name) + (i + 1) * 0x9E3779B97F4A7C15   (mod 2^64)
//   z = splitmix64 finaliser of x;  u = (z >> 40) / 2^24 (exact in float32)
//   value = float32(lo + (hi - lo) * u), computed in double
// The script's docstring says why (a ResNet-18 RetinaNet's weights are far over the fixture budget).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "layers/module.h"
#include "retinanet/retinanet.h"
#include "tensor/creation.h"

namespace maskdet::test {

// The torchvision model the fixture script builds: resnet18 with FrozenBatchNorm2d (eps 1e-5),
// FPN 256 with P6 from P5, default anchors, 2 classes.
inline RetinaNetConfig parity_retinanet_config() {
  RetinaNetConfig config;
  config.backbone = {.depth = 18, .norm = NormLayer::FrozenBatchNorm};
  config.num_classes = 2;
  config.fpn_channels = 256;
  config.p6_source = P6Source::P5;
  return config;
}

inline uint64_t fnv1a64(std::string_view text) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char byte : text) h = (h ^ byte) * 0x100000001B3ull;
  return h;
}

inline std::vector<float> fixture_uniform(std::string_view name, int64_t count, double lo, double hi) {
  const uint64_t key = fnv1a64(name);
  std::vector<float> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    uint64_t z = key + static_cast<uint64_t>(i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 40) / 16777216.0;
    out[static_cast<size_t>(i)] = static_cast<float>(lo + (hi - lo) * u);
  }
  return out;
}

// Loads the fixture's weights into `model` (strictly: a name the fixture has and the model
// lacks, or the reverse, fails the load with the list of names).
inline void load_fixture_weights(nn::Module& model, const std::map<std::string, Tensor>& fixture) {
  static const std::string prefix = "init.";
  std::map<std::string, Tensor> state;
  std::map<std::string, Shape> shapes;
  for (const auto& [name, t] : model.state_dict()) shapes[name] = t.shape();
  for (const auto& [key, range] : fixture) {
    if (key.rfind(prefix, 0) != 0) continue;
    const std::string name = key.substr(prefix.size());
    const auto shape = shapes.find(name);
    // A name the model lacks: load_state_dict below reports it with the others.
    const Shape s = shape != shapes.end() ? shape->second : Shape{1};
    const std::vector<double> lo_hi = range.to_vector<double>();
    state[name] = from_vector(fixture_uniform(name, shape_numel(s), lo_hi.at(0), lo_hi.at(1)), s);
  }
  model.load_state_dict(state);
}

}  // namespace maskdet::test
