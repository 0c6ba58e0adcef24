// Usage mistakes get a message naming the flag and what it wants, and exit status 2, both in
// the flags helper (apps/cli/flags.h) and through the `maskdet` program.
#include <gtest/gtest.h>

#include "apps/cli/error_message.h"
#include "apps/cli/flags.h"
#include "apps/maskdet/commands.h"
#include "apps/maskdet/train_settings.h"
#include "cli/cli_test_util.h"

namespace maskdet::cli_test {
namespace {

struct Options {
  std::string name = "x";
  double rate = 0.5;
  int64_t count = 3;
  bool fast = false;
  std::string mode = "a";
};

cli::Flags bind(Options& o, const std::string& positional = "") {
  cli::Flags flags("prog", "a test program", positional);
  flags.add("--name", o.name, "S", "a name");
  flags.add("--rate", o.rate, "X", "a rate");
  flags.add("--count", o.count, "N", "a count");
  flags.add_switch("--fast", o.fast, "go fast");
  flags.add_choice("--mode", o.mode, {"a", "b"}, "a mode");
  return flags;
}

std::string usage_error(cli::Flags& flags, const std::vector<std::string>& args) {
  try {
    flags.parse(args);
  } catch (const cli::UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Flags, ParsesValuesSwitchesAndChoices) {
  Options o;
  cli::Flags flags = bind(o, "FILE...");
  const auto positional = flags.parse({"--name", "y", "--rate=0.25", "in.jpg", "--count", "7", "--fast", "--mode", "b"});
  EXPECT_EQ(o.name, "y");
  EXPECT_EQ(o.rate, 0.25);
  EXPECT_EQ(o.count, 7);
  EXPECT_TRUE(o.fast);
  EXPECT_EQ(o.mode, "b");
  EXPECT_EQ(positional, std::vector<std::string>{"in.jpg"});
  EXPECT_TRUE(flags.given("rate"));
  EXPECT_EQ(flags.values().at("rate"), "0.25");
  EXPECT_NE(flags.usage().find("--rate X"), std::string::npos);
  EXPECT_NE(flags.usage().find("(default 0.5)"), std::string::npos) << "defaults are the values at binding time";
}

TEST(Flags, RecordedValuesReadBack) {
  Options a, b;
  cli::Flags first = bind(a);
  first.parse({"--rate", "0.1", "--fast", "--count", "-4"});
  cli::Flags second = bind(b);
  for (const auto& [name, value] : first.values()) second.set(name, value);
  EXPECT_EQ(b.rate, 0.1);
  EXPECT_TRUE(b.fast);
  EXPECT_EQ(b.count, -4);
}

TEST(Flags, MistakesNameTheFlag) {
  Options o;
  cli::Flags flags = bind(o);
  EXPECT_EQ(usage_error(flags, {"--rate", "fast"}), "prog: --rate wants a number, got 'fast'");
  EXPECT_EQ(usage_error(flags, {"--count", "2.5"}), "prog: --count wants a whole number, got '2.5'");
  EXPECT_EQ(usage_error(flags, {"--mode", "c"}), "prog: --mode wants one of a|b, got 'c'");
  EXPECT_EQ(usage_error(flags, {"--count"}), "prog: --count needs a value (N)");
  EXPECT_EQ(usage_error(flags, {"--colour", "red"}), "prog: unknown flag --colour (see --help)");
  EXPECT_EQ(usage_error(flags, {"stray"}), "prog: unexpected argument 'stray' (flags start with --; see --help)");
  EXPECT_EQ(usage_error(flags, {"--rate", "nan"}), "prog: --rate wants a number, got 'nan'");
}

TEST(ErrorMessage, DropsOnlySourcePositions) {
  EXPECT_EQ(cli::without_source_location("bad box (apps/data/voc.cpp:42)"), "bad box");
  EXPECT_EQ(cli::without_source_location("bad box (see the docs)"), "bad box (see the docs)");
  EXPECT_EQ(cli::without_source_location("count (3:4)"), "count (3:4)");
  // Every position, where one error's message carries another's; positions in data files stay.
  EXPECT_EQ(cli::without_source_location("a.xml:3: image x cannot be decoded (/src/apps/data_io/image_decode.cpp:50) "
                                         "(/src/apps/data/dataset_assembly.cpp:76)\n  more (layers/module.h:9)"),
            "a.xml:3: image x cannot be decoded\n  more");
  EXPECT_EQ(cli::without_source_location("box (see a.xml:3) (tensor/x.cu:1)"), "box (see a.xml:3)");
  EXPECT_EQ(cli::without_source_location("at (my file.cpp:2)"), "at (my file.cpp:2)");
}

struct BadCommand {
  std::string args;
  int exit_code;
  std::string message;
};

TEST(TrainFlags, AugmentationFlagsReachTheRandomTransform) {
  app::TrainSettings settings;
  cli::Flags flags("maskdet train", "test");
  app::bind_train_flags(flags, settings);
  EXPECT_DOUBLE_EQ(app::augmentation(settings).crop_min_fraction, 0.6);  // the default, as torchvision's reference
  flags.parse({"--crop-min-fraction", "0.3", "--scale-jitter", "0.8,1.25", "--zoom-out", "0.2"});
  const data::RandomTransformOptions options = app::augmentation(settings);
  EXPECT_DOUBLE_EQ(options.crop_min_fraction, 0.3);
  EXPECT_DOUBLE_EQ(options.scale_jitter_min, 0.8);
  EXPECT_DOUBLE_EQ(options.scale_jitter_max, 1.25);
  EXPECT_DOUBLE_EQ(options.zoom_out_probability, 0.2);
}

TEST(MaskdetProgram, UsageMistakesSayWhatIsWrong) {
  const std::vector<BadCommand> cases = {
      {"", app::kExitUsage, "usage: maskdet <command>"},
      {"frobnicate", app::kExitUsage, "unknown command 'frobnicate'"},
      {"train", app::kExitUsage, "maskdet train: --data PATH is required"},
      {"train --data x --lr abc", app::kExitUsage, "maskdet train: --lr wants a number, got 'abc'"},
      {"train --data x --backbone resnet7", app::kExitUsage,
       "--backbone wants one of mobilenet_v2|resnet18|resnet34|resnet50|resnet101"},
      {"train --data x --anchor-sizes 16,32,64,32,64", app::kExitUsage, "must be five increasing sizes > 0"},
      {"train --data x --scale-jitter 1.2", app::kExitUsage, "must be two factors MIN,MAX"},
      {"train --data x --zoom-out 2", app::kExitUsage, "--zoom-out must be a probability"},
      {"train --data x --crop-min-fraction 0", app::kExitUsage, "--crop-min-fraction must be in (0, 1]"},
      {"train --data x --inference-min-side 16", app::kExitUsage, "the inference size must have"},
      {"train --data x --trainable-backbone-layers 7", app::kExitUsage, "at most 6 for mobilenet_v2"},
      {"train --data x --backbone resnet18 --freeze-backbone", app::kExitUsage, "would freeze randomly initialised"},
      {"train --data x --bogus", app::kExitUsage, "unknown flag --bogus"},
      {"train --data x --batch-size", app::kExitUsage, "--batch-size needs a value"},
      {"train --data x --val-fraction 1.5", app::kExitUsage, "--val-fraction must be in [0, 1)"},
      {"train --data x --lr-drop-epochs 5,3", app::kExitUsage, "must hold increasing whole numbers"},
      {"train --data /nonexistent/voc", app::kExitFailure, "data set /nonexistent/voc not found"},
      {"train --resume /nonexistent.safetensors", app::kExitFailure, "snapshot /nonexistent.safetensors not found"},
      {"evaluate --data x", app::kExitUsage, "--snapshot FILE is required"},
      {"detect --snapshot s.safetensors in.jpg", app::kExitUsage, "--out DIR is required"},
      {"detect --snapshot s.safetensors --out o", app::kExitUsage, "name at least one image, folder or video"},
      {"debug --data x", app::kExitUsage, "--out DIR is required"},
  };
  for (const auto& c : cases) {
    const CommandResult r = run_maskdet(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << "maskdet " << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << "maskdet " << c.args << "\n" << r.output;
    EXPECT_EQ(r.output.find(".cpp:"), std::string::npos) << "no source positions for users: " << r.output;
  }
  const CommandResult help = run_maskdet("train --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--freeze-backbone"), std::string::npos) << help.output;
}

}  // namespace
}  // namespace maskdet::cli_test
