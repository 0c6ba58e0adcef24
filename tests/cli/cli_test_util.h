// Helpers for the end-to-end tests of the `maskdet` program: running it as a user would (a
// child process, stdout and stderr together) and reading what it wrote. The program's path
// comes from the build (MASKDET_BINARY).
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace maskdet::cli_test {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
  double seconds = 0;
};

// Runs `maskdet <args>` (args as a shell would split them; quote paths with spaces), with the
// environment assignments `env` ("NAME=value ...") when given.
inline CommandResult run_maskdet(const std::string& args, const std::string& env = "") {
  CommandResult result;
  const std::string command = (env.empty() ? "" : env + " ") + std::string(MASKDET_BINARY) + " " + args + " 2>&1";
  const auto start = std::chrono::steady_clock::now();
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace maskdet::cli_test
