// Learning-rate schedules: the closed forms documented in lr_schedule.h.
#include "layers/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "layers/optim/optimizer.h"
#include "tensor/error.h"

namespace maskdet::optim {

namespace {

void check_warmup(const LinearWarmup& warmup) {
  MASKDET_CHECK(warmup.steps >= 0, "LrSchedule: warm-up steps must be >= 0, got ", warmup.steps);
  MASKDET_CHECK(warmup.start_factor >= 0 && warmup.start_factor <= 1,
                "LrSchedule: warm-up start_factor must be in [0, 1], got ", warmup.start_factor);
}

}  // namespace

LrSchedule::LrSchedule(const LinearWarmup& warmup, MultiStepDecay decay) : warmup_(warmup) {
  check_warmup(warmup);
  MASKDET_CHECK(std::isfinite(decay.gamma) && decay.gamma >= 0, "LrSchedule: gamma must be >= 0, got ", decay.gamma);
  for (size_t i = 0; i < decay.milestones.size(); ++i) {
    MASKDET_CHECK(decay.milestones[i] >= 0, "LrSchedule: milestone ", decay.milestones[i], " is negative");
    MASKDET_CHECK(i == 0 || decay.milestones[i - 1] < decay.milestones[i],
                  "LrSchedule: milestones must be strictly increasing, got ", decay.milestones[i - 1], " then ",
                  decay.milestones[i]);
  }
  decay_ = std::move(decay);
}

LrSchedule::LrSchedule(const LinearWarmup& warmup, const CosineDecay& decay) : warmup_(warmup), decay_(decay) {
  check_warmup(warmup);
  MASKDET_CHECK(decay.total_steps > 0, "LrSchedule: cosine total_steps must be > 0, got ", decay.total_steps);
  MASKDET_CHECK(std::isfinite(decay.eta_min) && decay.eta_min >= 0, "LrSchedule: eta_min must be >= 0, got ",
                decay.eta_min);
}

double LrSchedule::warmup_factor(int64_t step) const {
  MASKDET_CHECK(step >= 0, "LrSchedule: step must be >= 0, got ", step);
  if (step >= warmup_.steps) return 1.0;
  const double progress = static_cast<double>(step) / static_cast<double>(warmup_.steps);
  return warmup_.start_factor + (1 - warmup_.start_factor) * progress;
}

double LrSchedule::lr(int64_t step, double base_lr) const {
  const double factor = warmup_factor(step);
  if (const auto* multi = std::get_if<MultiStepDecay>(&decay_)) {
    // upper_bound: a milestone takes effect on its own step, as bisect_right in PyTorch.
    const auto passed = std::upper_bound(multi->milestones.begin(), multi->milestones.end(), step) -
                        multi->milestones.begin();
    return factor * base_lr * std::pow(multi->gamma, static_cast<double>(passed));
  }
  const auto& cosine = std::get<CosineDecay>(decay_);
  const double t = static_cast<double>(std::min(step, cosine.total_steps));
  const double cosine_factor = (1 + std::cos(std::numbers::pi * t / static_cast<double>(cosine.total_steps))) / 2;
  return factor * (cosine.eta_min + (base_lr - cosine.eta_min) * cosine_factor);
}

void apply_lr_schedule(Optimizer& optimizer, const LrSchedule& schedule, int64_t step) {
  for (size_t g = 0; g < optimizer.num_groups(); ++g) optimizer.set_lr(g, schedule.lr(step, optimizer.initial_lr(g)));
}

}  // namespace maskdet::optim
