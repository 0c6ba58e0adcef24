// `maskdet bench` as a user runs it: a tiny configuration on the CPU measures every figure and
// writes them as JSON; usage mistakes name the flag and exit with status 2. About 5 s on 2 cores.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "cli/cli_test_util.h"

namespace maskdet::cli_test {
namespace {

namespace fs = std::filesystem;

TEST(BenchCommand, MeasuresEveryFigureOnTheCpu) {
  const fs::path json = fs::temp_directory_path() / ("maskdet_bench_test_" + std::to_string(::getpid()) + ".json");
  const CommandResult run = run_maskdet("bench --backbone resnet18 --fpn-channels 32 --size 128x128 --iters 2 "
                                        "--warmup 1 --batch-size 2 --device cpu --json " + json.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("train throughput (images/s)"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("n/a"), std::string::npos) << "device memory has no figure on the CPU\n" << run.output;

  const std::string text = read_file(json.string());
  fs::remove(json);
  ASSERT_FALSE(text.empty()) << "no JSON at " << json;
  EXPECT_NE(text.find("\"backbone\": \"resnet18\""), std::string::npos) << text;
  EXPECT_EQ(json_number(text, "input_height"), 128) << text;
  EXPECT_GT(json_number(text, "parameters"), 0) << text;
  EXPECT_GT(json_number(text, "forward_gflops_per_image"), 0) << text;
  for (const char* key : {"train_images_per_s", "infer_images_per_s"}) EXPECT_GT(json_number(text, key), 0) << key;
  for (const std::string prefix : {"train_step_ms", "infer_b1_ms"}) {
    const double p50 = json_number(text, prefix + "_p50"), p95 = json_number(text, prefix + "_p95");
    EXPECT_GT(p50, 0) << prefix << "\n" << text;
    EXPECT_GE(p95, p50) << prefix << "\n" << text;
  }
  EXPECT_GT(json_number(text, "infer_batch_ms_p50"), 0) << text;
  EXPECT_NE(text.find("\"train_peak_mib\": null"), std::string::npos) << text;
}

TEST(BenchCommand, UsageMistakesNameTheFlag) {
  const struct {
    const char* args;
    const char* flag;
  } cases[] = {
      {"--size 12x", "--size"},
      {"--size 16x16", "--size"},
      {"--mode fly", "--mode"},
      {"--iters 0", "--iters"},
      {"--backbone resnet7", "--backbone"},
      {"--device tpu", "--device"},
  };
  for (const auto& c : cases) {
    const CommandResult run = run_maskdet(std::string("bench ") + c.args);
    EXPECT_EQ(run.exit_code, 2) << c.args << "\n" << run.output;
    EXPECT_NE(run.output.find(c.flag), std::string::npos) << c.args << "\n" << run.output;
  }
}

TEST(BenchCommand, HelpListsTheFlags) {
  const CommandResult run = run_maskdet("bench --help");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  for (const char* flag : {"--size HxW", "--mode", "--json FILE", "--infer-batch-size"})
    EXPECT_NE(run.output.find(flag), std::string::npos) << flag << "\n" << run.output;
}

}  // namespace
}  // namespace maskdet::cli_test
