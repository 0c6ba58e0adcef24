// Reading the launcher's environment (launch_environment.h).
#include "apps/dist/launch_environment.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "apps/dist/process_group.h"

namespace maskdet::dist {

namespace {

// The first of `names` that is set, or nullptr.
const char* first_set(std::initializer_list<const char*> names, const char** which) {
  for (const char* name : names) {
    if (const char* value = std::getenv(name); value && *value) {
      *which = name;
      return value;
    }
  }
  return nullptr;
}

int integer_variable(const char* name, const char* text, int lowest) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE || value < lowest || value > 1 << 30)
    throw DistError(std::string("environment variable ") + name + "=" + text + " is not an integer >= " +
                    std::to_string(lowest));
  return static_cast<int>(value);
}

}  // namespace

LaunchEnvironment read_launch_environment() {
  LaunchEnvironment env;
  const char* rank_name = nullptr;
  const char* size_name = nullptr;
  const char* local_name = nullptr;
  const char* rank = first_set({"RANK"}, &rank_name);
  const char* size = nullptr;
  const char* local = nullptr;
  if (rank) {
    env.launcher = "torchrun";
    size = first_set({"WORLD_SIZE"}, &size_name);
    local = first_set({"LOCAL_RANK"}, &local_name);
    if (!size) throw DistError("RANK is set but WORLD_SIZE is not: set both (as torchrun does)");
  } else if ((rank = first_set({"OMPI_COMM_WORLD_RANK"}, &rank_name))) {
    env.launcher = "mpirun";
    size = first_set({"OMPI_COMM_WORLD_SIZE"}, &size_name);
    local = first_set({"OMPI_COMM_WORLD_LOCAL_RANK"}, &local_name);
    if (!size) throw DistError("OMPI_COMM_WORLD_RANK is set but OMPI_COMM_WORLD_SIZE is not");
  } else {
    return env;
  }
  env.rank = integer_variable(rank_name, rank, 0);
  env.world_size = integer_variable(size_name, size, 1);
  env.local_rank = local ? integer_variable(local_name, local, 0) : env.rank;
  if (env.rank >= env.world_size)
    throw DistError(std::string(rank_name) + "=" + rank + " is not below " + size_name + "=" + size);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr) env.master_addr = addr;
  if (const char* port = std::getenv("MASTER_PORT"); port && *port) {
    env.master_port = integer_variable("MASTER_PORT", port, 1);
    if (env.master_port > 65535) throw DistError(std::string("MASTER_PORT=") + port + " is not a TCP port");
  }
  return env;
}

std::string local_address_towards(const std::string& master_addr, int master_port) {
  if (const char* forced = std::getenv("MASKDET_SOCKET_IFADDR"); forced && *forced) return forced;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(master_port);
  if (const int rc = getaddrinfo(master_addr.c_str(), port.c_str(), &hints, &found); rc != 0)
    throw DistError("cannot resolve MASTER_ADDR " + master_addr + ": " + gai_strerror(rc));
  std::string address;
  for (addrinfo* a = found; a && address.empty(); a = a->ai_next) {
    const int fd = socket(a->ai_family, SOCK_DGRAM, 0);
    if (fd < 0) continue;
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* raw = local.ss_family == AF_INET
                            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr)
                            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr);
      if (inet_ntop(local.ss_family, raw, text, sizeof text)) address = text;
    }
    close(fd);
  }
  freeaddrinfo(found);
  if (address.empty())
    throw DistError("no local address routes to MASTER_ADDR " + master_addr +
                    " (set MASKDET_SOCKET_IFADDR to this host's address on the link to rank 0)");
  return address;
}

}  // namespace maskdet::dist
