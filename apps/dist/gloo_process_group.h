// The CPU backend of ProcessGroup (process_group.h): Gloo, PyTorch's own CPU collective library
// (Debian's libgloo-dev), over its TCP transport. Ranks meet through the TcpStore rank 0 serves
// at MASTER_ADDR:MASTER_PORT; Gloo then connects every pair of ranks directly.
#pragma once
#include <chrono>
#include <memory>

#include "apps/dist/launch_environment.h"
#include "apps/dist/process_group.h"

namespace gloo {
class Context;
}

namespace maskdet::dist {

// Every collective and the rendezvous give up after `timeout`. The TCP device binds to the
// address that routes to MASTER_ADDR (local_address_towards), or the interface GLOO_SOCKET_IFNAME
// names.
std::unique_ptr<ProcessGroup> make_gloo_process_group(const LaunchEnvironment& env, std::chrono::milliseconds timeout);

// The Gloo context under a group make_gloo_process_group made (the NCCL backend's bootstrap),
// or null for another kind of group.
std::shared_ptr<gloo::Context> gloo_context_of(ProcessGroup& group);

}  // namespace maskdet::dist
