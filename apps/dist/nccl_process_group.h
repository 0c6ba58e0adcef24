// The CUDA backend of ProcessGroup (process_group.h): NCCL, bootstrapped through a CPU group
// (Gloo): rank 0's ncclUniqueId is broadcast over it, as torch.distributed does. all_reduce_sum
// and broadcast take CUDA device memory of the current device and return once the result is
// there; barrier and all_gather (small host values) go through the CPU group. Built only with the
// CUDA backend and NCCL (MASKDET_HAVE_NCCL).
#pragma once
#include <chrono>
#include <memory>

#include "apps/dist/process_group.h"

namespace maskdet::dist {

// `bootstrap` must outlive the returned group. Collectives that do not finish within `timeout`
// abort the communicator and throw DistError.
std::unique_ptr<ProcessGroup> make_nccl_process_group(ProcessGroup& bootstrap, std::chrono::milliseconds timeout);

}  // namespace maskdet::dist
