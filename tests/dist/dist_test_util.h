// Helpers for the data-parallel tests: free loopback ports, ranks started as background
// processes under either launcher's environment (or inside a network namespace), and the
// figures a run leaves in its snapshot folder.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_test_util.h"

namespace maskdet::dist_test {

// A TCP port nothing listens on now: the kernel's pick for a socket bound to loopback port 0.
inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  close(fd);
  return port;
}

// Starts `prefix maskdet args` through the shell, output into log_path; returns its pid. prefix:
// environment assignments and wrappers ("env RANK=1 ...", "ip netns exec NS env ...").
inline pid_t spawn(const std::string& prefix, const std::string& args, const std::string& log_path) {
  const std::string command =
      "exec " + prefix + " " + std::string(MASKDET_BINARY) + " " + args + " > '" + log_path + "' 2>&1";
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// torchrun's environment for rank `rank` of `world`; one thread each, as on a loaded CI machine.
inline std::string torchrun_env(int rank, int world, int port, const std::string& master = "127.0.0.1") {
  return "env OMP_NUM_THREADS=1 RANK=" + std::to_string(rank) + " WORLD_SIZE=" + std::to_string(world) +
         " LOCAL_RANK=" + std::to_string(rank) + " MASTER_ADDR=" + master + " MASTER_PORT=" + std::to_string(port);
}

// The rows of a CSV log (header first), split at commas.
inline std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream s(line);
    std::string field;
    while (std::getline(s, field, ',')) fields.push_back(field);
    rows.push_back(fields);
  }
  return rows;
}

// A column of a CSV log as numbers (NaN for an empty field).
inline std::vector<double> csv_column(const std::string& path, const std::string& name) {
  const auto rows = read_csv(path);
  std::vector<double> values;
  if (rows.empty()) return values;
  size_t column = 0;
  while (column < rows[0].size() && rows[0][column] != name) ++column;
  for (size_t r = 1; r < rows.size(); ++r)
    values.push_back(column < rows[r].size() && !rows[r][column].empty() ? std::stod(rows[r][column]) : std::nan(""));
  return values;
}

}  // namespace maskdet::dist_test
