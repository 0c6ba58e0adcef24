// Joining the run's world: the process group a process gets from its launcher's environment
// (launch_environment.h): the world of one without a launcher, else Gloo over TCP.
#pragma once
#include <chrono>
#include <memory>

#include "apps/dist/launch_environment.h"
#include "apps/dist/process_group.h"

namespace maskdet::dist {

// Whether this build has a distributed backend (Gloo was found).
bool distributed_available();

// Throws DistError when the environment asks for several ranks and this build has no Gloo, or
// when the rendezvous fails or times out.
std::unique_ptr<ProcessGroup> join_world(const LaunchEnvironment& env, std::chrono::milliseconds timeout);

}  // namespace maskdet::dist
