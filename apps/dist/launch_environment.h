// Where a process learns its place in a distributed run: the variables torchrun sets (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) or, when RANK is unset, those OpenMPI's
// mpirun sets (OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK). mpirun is only the launcher here: the
// collectives go through Gloo, so MASTER_ADDR and MASTER_PORT default as torchrun's do
// (127.0.0.1:29500) and a run across hosts passes `-x MASTER_ADDR=<rank 0's host>`.
#pragma once
#include <string>

namespace maskdet::dist {

struct LaunchEnvironment {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string launcher = "none";  // "torchrun", "mpirun" or "none"
};

// Throws DistError for a value that is not a number or out of range (RANK >= WORLD_SIZE).
LaunchEnvironment read_launch_environment();

// The local address this host reaches `master_addr` from, for the collectives' TCP device to
// bind: MASKDET_SOCKET_IFADDR when set, else the source address the kernel picks for a UDP
// socket connected to master_addr (nothing is sent).
std::string local_address_towards(const std::string& master_addr, int master_port);

}  // namespace maskdet::dist
