// maskdet -> PyTorch: a RetinaNet state dict saved by maskdet loads into torchvision's model with
// strict=True, and torchvision reproduces maskdet's head outputs from it
// (tools/check_safetensors_interop.py). The other direction, PyTorch -> maskdet, is what every
// fixture of this folder already exercises.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "autograd/grad_mode.h"
#include "parity/fixture_weights.h"
#include "tensor/safetensors.h"
#include "test_util.h"

namespace maskdet {
namespace {

// Runs a command, returning its exit status and what it printed.
std::pair<int, std::string> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST(SafetensorsInterop, PyTorchLoadsAMaskdetRetinaNet) {
  const std::string python = "/usr/bin/python3";
  if (!std::filesystem::exists(python)) GTEST_SKIP() << python << " is not installed";
  manual_seed(3);
  RetinaNet model(test::parity_retinanet_config());  // maskdet's own random initialisation
  model.eval();
  Generator gen(4);
  Tensor input = randn({1, 3, 96, 128}, {}, &gen);
  RetinaNetOutputs outputs;
  {
    NoGradGuard no_grad;
    outputs = model.forward(input);
  }
  std::vector<std::pair<std::string, Tensor>> entries;
  for (const auto& [name, tensor] : model.state_dict()) entries.emplace_back("model." + name, tensor);
  entries.emplace_back("input", input);
  entries.emplace_back("head.cls_logits", outputs.cls_logits);
  entries.emplace_back("head.bbox_regression", outputs.bbox_regression);
  // One name per process: CTest runs this program twice at once (here and under
  // TestsPassWithRemadeFixtures), and other checkouts on the machine may run it too.
  const std::string path = ::testing::TempDir() + "maskdet_retinanet_r18." + std::to_string(getpid()) + ".safetensors";
  save_safetensors(path, entries, {{"writer", "maskdet"}});

  const auto [status, output] =
      run_command(python + " " MASKDET_SOURCE_DIR "/tools/check_safetensors_interop.py " + path);
  std::cout << output;
  if (status == 77) GTEST_SKIP() << "PyTorch or torchvision missing (scripts/install-deps.sh --torch): " << output;
  EXPECT_EQ(status, 0) << output;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace maskdet
