// The subcommands of the `maskdet` program (apps/maskdet.cpp). Each takes its arguments after
// the subcommand's name and returns 0, or throws: cli::UsageError for a usage mistake,
// DivergedError (trainer.h) when training diverged, maskdet::Error for anything else; main
// turns those into a message and the exit status below.
#pragma once
#include <string>
#include <vector>

namespace maskdet::app {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitDiverged = 3;

int train_command(const std::vector<std::string>& args);
int evaluate_command(const std::vector<std::string>& args);
int detect_command(const std::vector<std::string>& args);
int debug_command(const std::vector<std::string>& args);

}  // namespace maskdet::app
