// Finding, or fetching once, the ImageNet MobileNetV2 file (pretrained_weights.h).
#include "apps/maskdet/pretrained_weights.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <vector>

#include "tensor/error.h"

namespace maskdet::app {

namespace {

namespace fs = std::filesystem;

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

fs::path cache_dir() {
  if (const std::string dir = environment("MASKDET_CACHE_DIR"); !dir.empty()) return dir;
  if (const std::string dir = environment("XDG_CACHE_HOME"); !dir.empty()) return fs::path(dir) / "maskdet";
  const std::string home = environment("HOME");
  MASKDET_CHECK(!home.empty(), "--weights imagenet: neither MASKDET_CACHE_DIR, XDG_CACHE_HOME nor HOME is set, so "
                               "there is no cache folder for the weights; give --weights FILE");
  return fs::path(home) / ".cache" / "maskdet";
}

std::string fetch_script() {
  if (const std::string script = environment("MASKDET_FETCH_WEIGHTS"); !script.empty()) return script;
#ifdef MASKDET_SOURCE_DIR
  return (fs::path(MASKDET_SOURCE_DIR) / "scripts" / "fetch-weights.sh").string();
#else
  return "";
#endif
}

// Runs `bash script --out path` with this process's stdout and stderr; returns its exit status.
int run_fetch(const std::string& script, const std::string& path) {
  const pid_t pid = fork();
  MASKDET_CHECK(pid >= 0, "--weights imagenet: could not start ", script);
  if (pid == 0) {
    std::vector<const char*> argv = {"bash", script.c_str(), "--out", path.c_str(), nullptr};
    execvp("bash", const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::string imagenet_weights_path() {
  return (cache_dir() / "weights" / "mobilenet_v2_imagenet.safetensors").string();
}

std::string find_or_fetch_imagenet_weights(std::ostream& log) {
  const std::string path = imagenet_weights_path();
  if (fs::exists(path)) return path;
  const std::string script = fetch_script();
  MASKDET_CHECK(!script.empty() && fs::exists(script), "--weights imagenet: ", path,
                " is not there and the script that fetches it (scripts/fetch-weights.sh of maskdet's source tree, or "
                "$MASKDET_FETCH_WEIGHTS) was not found; run it, or give --weights FILE");
  log << "--weights imagenet: " << path << " is not there yet; fetching it with " << script << "\n" << std::flush;
  const int status = run_fetch(script, path);
  MASKDET_CHECK(status == 0 && fs::exists(path), "--weights imagenet: ", script, " failed (exit status ", status,
                "); its messages are above. Run it by hand, or give --weights FILE");
  return path;
}

}  // namespace maskdet::app
