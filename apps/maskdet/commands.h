// The subcommands of the `maskdet` program (apps/maskdet.cpp). Each takes its arguments after
// the subcommand's name and returns 0, or throws: cli::UsageError for a usage mistake,
// DivergedError (training_step.h) when training diverged, maskdet::Error for anything else;
// run_command turns those into a message and the exit status below.
#pragma once
#include <string>
#include <vector>

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

// Runs command(args) and returns its exit status, printing what it threw on stderr, prefixed
// with "maskdet <name>: ", and mapping it to the status above.
int run_command(const std::string& name, int (*command)(const std::vector<std::string>&),
                const std::vector<std::string>& args);

}  // namespace maskdet::app
