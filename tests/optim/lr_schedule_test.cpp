// Learning-rate schedules against torch.optim.lr_scheduler (ChainedScheduler of LinearLR with
// MultiStepLR or CosineAnnealingLR, and CosineAnnealingLR alone), for two groups with different
// initial lrs, through apply_lr_schedule on a real optimiser.
#include "layers/optim/lr_schedule.h"

#include "optim_fixture.h"

namespace maskdet {
namespace {
using namespace test;
using optim::CosineDecay;
using optim::LinearWarmup;
using optim::LrSchedule;
using optim::MultiStepDecay;

// Table (steps, 2) of the fixture against the schedule applied to an SGD with the fixture's
// two groups (lr 0.01 and 0.02).
void expect_schedule_matches(const LrSchedule& schedule, const std::string& name) {
  const Tensor expected = reference("schedule." + name);
  const std::vector<Tensor> params = fixture_params();
  optim::SGD sgd({{{params[0]}, 0.01}, {{params[1]}, 0.02}}, {});
  for (int64_t step = 0; step < expected.size(0); ++step) {
    optim::apply_lr_schedule(sgd, schedule, step);
    for (size_t g = 0; g < 2; ++g) {
      const double torch_lr = expected.at({step, static_cast<int64_t>(g)});
      EXPECT_NEAR(sgd.lr(g), torch_lr, 1e-12 * torch_lr + 1e-18) << name << " step " << step << " group " << g;
      EXPECT_EQ(sgd.initial_lr(g), g == 0 ? 0.01 : 0.02);
    }
  }
}

TEST(LrSchedule, WarmupMultiStepMatchesTorch) {
  expect_schedule_matches(LrSchedule(LinearWarmup{5, 0.001}, MultiStepDecay{{12, 20}, 0.1}), "warmup_multistep");
}

TEST(LrSchedule, WarmupCosineMatchesTorch) {
  expect_schedule_matches(LrSchedule(LinearWarmup{5, 0.001}, CosineDecay{30, 0.0}), "warmup_cosine");
}

TEST(LrSchedule, CosineWithEtaMinMatchesTorch) {
  expect_schedule_matches(LrSchedule(LinearWarmup{0}, CosineDecay{30, 1e-4}), "cosine");
}

TEST(LrSchedule, WarmupEndsAtOneAndMilestonesTakeEffectOnTheirStep) {
  const LrSchedule schedule(LinearWarmup{4, 0.25}, MultiStepDecay{{6, 8}, 0.5});
  EXPECT_EQ(schedule.warmup_factor(0), 0.25);
  EXPECT_EQ(schedule.warmup_factor(2), 0.625);
  EXPECT_EQ(schedule.warmup_factor(4), 1.0);
  EXPECT_EQ(schedule.lr(5, 2.0), 2.0);
  EXPECT_EQ(schedule.lr(6, 2.0), 1.0);
  EXPECT_EQ(schedule.lr(7, 2.0), 1.0);
  EXPECT_EQ(schedule.lr(8, 2.0), 0.5);
  EXPECT_EQ(schedule.lr(1000, 2.0), 0.5);
}

TEST(LrSchedule, CosineHoldsEtaMinAfterTheEnd) {
  const LrSchedule schedule(LinearWarmup{0}, CosineDecay{10, 1e-3});
  EXPECT_EQ(schedule.lr(0, 0.1), 0.1);
  EXPECT_DOUBLE_EQ(schedule.lr(10, 0.1), 1e-3);
  EXPECT_DOUBLE_EQ(schedule.lr(25, 0.1), 1e-3);
}

TEST(LrSchedule, RejectsBadSettings) {
  EXPECT_ERROR_CONTAINS(LrSchedule(LinearWarmup{0}, MultiStepDecay{{10, 5}, 0.1}),
                        "milestones must be strictly increasing, got 10 then 5");
  EXPECT_ERROR_CONTAINS(LrSchedule(LinearWarmup{0}, CosineDecay{0}), "cosine total_steps must be > 0, got 0");
  EXPECT_ERROR_CONTAINS(LrSchedule(LinearWarmup{5, 1.5}, CosineDecay{10}), "start_factor must be in [0, 1], got 1.5");
  EXPECT_ERROR_CONTAINS(LrSchedule(LinearWarmup{-1}, CosineDecay{10}), "warm-up steps must be >= 0, got -1");
  const LrSchedule schedule(LinearWarmup{0}, CosineDecay{10});
  EXPECT_ERROR_CONTAINS(schedule.lr(-1, 0.1), "step must be >= 0, got -1");
}

}  // namespace
}  // namespace maskdet
