// Choosing the backend for the launcher's world (join_world.h).
#include "apps/dist/join_world.h"

#ifdef MASKDET_HAVE_GLOO
#include "apps/dist/gloo_process_group.h"
#endif

namespace maskdet::dist {

bool distributed_available() {
#ifdef MASKDET_HAVE_GLOO
  return true;
#else
  return false;
#endif
}

std::unique_ptr<ProcessGroup> join_world(const LaunchEnvironment& env, std::chrono::milliseconds timeout) {
  if (env.world_size == 1) return make_single_process_group();
#ifdef MASKDET_HAVE_GLOO
  return make_gloo_process_group(env, timeout);
#else
  throw DistError("the launcher (" + env.launcher + ") asks for " + std::to_string(env.world_size) +
                  " ranks but this maskdet was built without Gloo (libgloo-dev): distributed training is left out");
#endif
}

}  // namespace maskdet::dist
