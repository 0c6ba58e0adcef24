// Independent random streams for every (seed, epoch, sample) so that what a sample becomes does
// not depend on which worker thread made it or in which order: each sample gets its own
// Generator seeded by hashing the parts together with splitmix64's finaliser (Steele et al.,
// "Fast splittable pseudorandom number generators", 2014), whose avalanche keeps neighbouring
// indices' streams unrelated.
#pragma once
#include <cstdint>
#include <initializer_list>

namespace maskdet::data {

constexpr uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// A seed for the stream named by `parts` under `seed`, e.g. derive_seed(seed, {epoch, index}).
constexpr uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> parts) {
  uint64_t h = mix64(seed);
  for (const uint64_t p : parts) h = mix64(h ^ mix64(p));
  return h;
}

}  // namespace maskdet::data
