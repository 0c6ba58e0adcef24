// Seeded random numbers: the same seed gives the same tensors on every machine
// (the generator is a fixed algorithm, splitmix64 feeding xoshiro256**, not std:: distributions).
#pragma once
#include <cstdint>

namespace maskdet {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) { manual_seed(seed); }
  void manual_seed(uint64_t seed);
  uint64_t next_u64();
  double uniform();  // [0, 1)
  double normal();   // N(0, 1), Box-Muller
  // The whole state, for snapshots that resume exactly.
  struct State { uint64_t s[4]; bool has_spare; double spare; };
  State state() const { return {{s_[0], s_[1], s_[2], s_[3]}, has_spare_, spare_}; }
  void set_state(const State& st);

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace maskdet
