// Learning-rate schedules for detection training: a linear warm-up followed by step decay
// or cosine decay, as a pure function of the step, so a resumed run only needs its step.
//
// `step` counts optimiser steps already taken: step 0 is the lr of the first update (what a
// PyTorch scheduler holds after construction and before its first scheduler.step()).
// For a group whose initial lr is base:
//   lr(step) = warmup(step) * decay(step, base)
//   warmup(step) = start_factor + (1 - start_factor) * step / warmup_steps   for step < warmup_steps
//                = 1                                                       afterwards
//     (torch.optim.lr_scheduler.LinearLR with end_factor 1; detectron2's WarmupMultiStepLR and
//      WarmupCosineLR "linear" method; torchvision's detection reference warm-up)
//   multi-step: decay = base * gamma ^ (number of milestones <= step)
//     (the closed form of torch.optim.lr_scheduler.MultiStepLR)
//   cosine:     decay = eta_min + (base - eta_min) * (1 + cos(pi * min(step, total_steps) / total_steps)) / 2
//     (the closed form of torch.optim.lr_scheduler.CosineAnnealingLR with T_max = total_steps;
//      held at eta_min after total_steps, where PyTorch would start a second half-period)
// The warm-up multiplies the decay at the same absolute step, as detectron2 does: milestones and
// total_steps count from the start of training, warm-up included.
#pragma once
#include <cstdint>
#include <variant>
#include <vector>

namespace maskdet::optim {

class Optimizer;

struct LinearWarmup {
  int64_t steps = 0;          // 0: no warm-up
  double start_factor = 1e-3; // the lr multiplier at step 0, in [0, 1]
};

struct MultiStepDecay {
  std::vector<int64_t> milestones;  // strictly increasing steps; empty: a constant lr
  double gamma = 0.1;               // multiplier applied at each milestone
};

struct CosineDecay {
  int64_t total_steps = 1;  // T_max: the step where the lr reaches eta_min
  double eta_min = 0;       // an absolute lr, shared by every group, as PyTorch's
};

class LrSchedule {
 public:
  LrSchedule(const LinearWarmup& warmup, MultiStepDecay decay);
  LrSchedule(const LinearWarmup& warmup, const CosineDecay& decay);

  // The lr at `step` (>= 0) for a group whose initial lr is base_lr.
  double lr(int64_t step, double base_lr) const;
  double warmup_factor(int64_t step) const;

 private:
  LinearWarmup warmup_;
  std::variant<MultiStepDecay, CosineDecay> decay_;
};

// Sets every group's lr to schedule.lr(step, the group's initial lr). Call before each
// optimizer.step() with the number of steps taken so far.
void apply_lr_schedule(Optimizer& optimizer, const LrSchedule& schedule, int64_t step);

}  // namespace maskdet::optim
