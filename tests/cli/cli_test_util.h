// Helpers for the end-to-end tests of the `maskdet` program: running it as a user would (a
// child process, stdout and stderr together), or in the background to be signalled, and
// reading what it wrote. The program's path comes from the build (MASKDET_BINARY).
#pragma once
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

// A detector small enough to train in about a second on synthetic 64 px images (one step),
// for the tests that need a snapshot but not a good one. The snapshot is still a real one:
// ResNet-18 with its AdamW state, about 130 MB.
inline const std::string kTinyTrainFlags =
    "--epochs 1 --steps 1 --batch-size 2 --image-min-side 64 --image-max-side 64 --fpn-channels 8 "
    "--val-fraction 0.25 --warmup-steps 0 --workers 0";

// Starts `maskdet <args>` in the background, stdout and stderr into log_path; returns its pid.
inline pid_t spawn_maskdet(const std::string& args, const std::string& log_path) {
  const std::string command = "exec " + std::string(MASKDET_BINARY) + " " + args + " > '" + log_path + "' 2>&1";
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// The exit status of the child `pid` as a shell reports it: its exit code, or 128 + the signal
// that ended it. -1 when it has not ended within timeout_s (it is killed then).
inline int wait_for_exit(pid_t pid, double timeout_s = 120) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Whether every file parses as JSON with Python's json module (strict UTF-8): *.json whole,
// *.jsonl line by line, *.safetensors its header and the JSON held in its metadata (config and
// classes). Returns Python's complaint, or "" when all parse.
inline std::string json_problems(const std::vector<std::string>& files) {
  static const char* script =
      "import json, struct, sys\n"
      "for p in sys.argv[1:]:\n"
      "    data = open(p, 'rb').read()\n"
      "    try:\n"
      "        if p.endswith('.safetensors'):\n"
      "            n = struct.unpack('<Q', data[:8])[0]\n"
      "            meta = json.loads(data[8:8 + n].decode('utf-8')).get('__metadata__', {})\n"
      "            for key in ('config', 'classes'):\n"
      "                json.loads(meta[key])\n"
      "        elif p.endswith('.jsonl'):\n"
      "            for line in data.decode('utf-8').splitlines():\n"
      "                json.loads(line)\n"
      "        else:\n"
      "            json.loads(data.decode('utf-8'))\n"
      "    except Exception as e:\n"
      "        print(p + ': ' + repr(e))\n"
      "        sys.exit(1)\n";
  const std::string script_path = ::testing::TempDir() + "/maskdet_json_check.py";
  std::ofstream(script_path) << script;
  std::string command = "python3 '" + script_path + "'";
  for (const auto& f : files) command += " '" + f + "'";
  command += " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return "cannot run python3";
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return output.empty() ? "python3 failed" : output;
}

// The figure after `"key": ` at or after byte `from` of a JSON text; NaN when the key is missing
// or its value is not a number (null included).
inline double json_number(const std::string& text, const std::string& key, size_t from = 0) {
  const size_t at = text.find("\"" + key + "\": ", from);
  if (at == std::string::npos) return std::nan("");
  const char* start = text.c_str() + at + key.size() + 4;
  char* end = nullptr;
  const double value = std::strtod(start, &end);
  return end == start ? std::nan("") : value;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A file's content in a form a failed comparison can print: its size and a hash of its bytes.
inline std::string fingerprint(const std::string& bytes) {
  return std::to_string(bytes.size()) + " bytes, hash " + std::to_string(std::hash<std::string>{}(bytes));
}

}  // namespace maskdet::cli_test
