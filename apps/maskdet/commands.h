// The subcommands of the `maskdet` program (apps/maskdet.cpp). Each takes its arguments after
// the subcommand's name and returns 0, or throws: cli::UsageError for a usage mistake,
// DivergedError (training_step.h) when training diverged, maskdet::Error for anything else;
// run_command turns those into a message and the exit status below.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "apps/dist/launch_environment.h"
#include "apps/dist/process_group.h"
#include "tensor/device.h"

namespace maskdet::app {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitDiverged = 3;

int train_command(const std::vector<std::string>& args);
int evaluate_command(const std::vector<std::string>& args);
int detect_command(const std::vector<std::string>& args);
int debug_command(const std::vector<std::string>& args);
int bench_command(const std::vector<std::string>& args);
// Built with libonnx-dev only (MASKDET_HAVE_ONNX); without it, an error saying so.
int export_command(const std::vector<std::string>& args);
int serve_command(const std::vector<std::string>& args);

// The device a --device value names, checked to be usable here: a CUDA device where no GPU or
// driver is present is an error that says why (cuda_unavailable_reason).
Device usable_device(const std::string& name);

// This process's place in a run: its launcher's environment (torchrun's, mpirun's, or none) and
// the process group joined through it.
struct RunWorld {
  dist::LaunchEnvironment launch;
  std::unique_ptr<dist::ProcessGroup> group;
};

// Joins the launcher's world for `maskdet <command>`, whose --batch-size `global_batch` is shared
// out among the ranks: refuses a batch with fewer images than ranks (cli::UsageError) before
// anything waits for the others. Every rank but 0, which speaks for the run, has its stdout
// silenced; their errors still reach stderr, naming their rank.
RunWorld join_run_world(const std::string& command, int64_t global_batch, std::chrono::milliseconds timeout);

// Runs command(args) and returns its exit status, printing what it threw on stderr, prefixed
// with "maskdet <name>: ", and mapping it to the status above.
int run_command(const std::string& name, int (*command)(const std::vector<std::string>&),
                const std::vector<std::string>& args);

}  // namespace maskdet::app
