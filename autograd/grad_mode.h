// Grad mode: whether differentiable ops record graph nodes. Off inside NoGradGuard and
// while the engine runs a backward pass.
#pragma once

namespace maskdet::autograd {

struct GradMode {
  static bool enabled();
  static void set_enabled(bool enabled);
};

// Scoped: ops inside record no graph (inference, optimizer updates, evaluation).
class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace maskdet::autograd

namespace maskdet {
using autograd::NoGradGuard;
}
