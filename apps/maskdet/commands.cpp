// What the subcommands share (commands.h): the device they run on, the run's world of ranks, and
// from what a subcommand throws to its message and exit status.
#include "apps/maskdet/commands.h"

#include <cstdio>
#include <exception>
#include <iostream>

#include "apps/cli/error_message.h"
#include "apps/cli/flags.h"
#include "apps/dist/join_world.h"
#include "apps/maskdet/training_step.h"

namespace maskdet::app {

Device usable_device(const std::string& name) {
  const Device device = parse_device(name);
  MASKDET_CHECK(device.is_cpu() || cuda_available(), "--device ", name, ": ", cuda_unavailable_reason());
  return device;
}

RunWorld join_run_world(const std::string& command, int64_t global_batch, std::chrono::milliseconds timeout) {
  RunWorld world{dist::read_launch_environment(), nullptr};
  const int ranks = world.launch.world_size;
  if (ranks > 1 && global_batch < ranks)
    throw cli::UsageError("maskdet " + command + ": --batch-size " + std::to_string(global_batch) +
                          " is the global batch and must have at least one image for each of the " +
                          std::to_string(ranks) + " ranks");
  world.group = dist::join_world(world.launch, timeout);
  if (!world.group->is_leader() && !std::freopen("/dev/null", "w", stdout))
    std::cerr << "warning: could not silence rank " << world.launch.rank << "\n";
  return world;
}

#ifndef MASKDET_HAVE_ONNX
int export_command(const std::vector<std::string>&) {
  MASKDET_FAIL("this maskdet was built without ONNX (Debian's libonnx-dev was not found by CMake): install it "
               "(scripts/install-deps.sh) and build again to export models");
}
#endif

int run_command(const std::string& name, int (*command)(const std::vector<std::string>&),
                const std::vector<std::string>& args) {
  try {
    return command(args);
  } catch (const cli::UsageError& e) {
    // Its message already starts with the program's name.
    std::fprintf(stderr, "%s\n", cli::user_message(e).c_str());
    return kExitUsage;
  } catch (const DivergedError& e) {
    std::fprintf(stderr, "maskdet %s: %s\n", name.c_str(), cli::user_message(e).c_str());
    return kExitDiverged;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "maskdet %s: error: %s\n", name.c_str(), cli::user_message(e).c_str());
    return kExitFailure;
  }
}

}  // namespace maskdet::app
