// The training logs' JSON Lines file (apps/maskdet/training_log.h) across versions: a resumed
// run trims epochs.jsonl by each line's parsed "epoch", so lines an earlier maskdet wrote
// ("epoch": 1, with a space) are kept or dropped like its own, and a line cut short by a crash
// goes; new lines are compact JSON with the validation report inside. Milliseconds.
#include "apps/maskdet/training_log.h"

#include <gtest/gtest.h>

#include <sstream>

#include "cli/cli_test_util.h"
#include "data/data_test_util.h"
#include "tensor/json_text.h"

namespace maskdet::cli_test {
namespace {

using TrainingLogFile = data::test::TempDirTest;

TEST_F(TrainingLogFile, ResumeTrimsLinesOfEarlierVersionsByTheirEpoch) {
  const std::string earlier_line_1 =
      R"({"epoch": 1,"step": 4,"loss": 2.5,"classification": 1,"regression": 1.5,"lr": 0.001,)"
      R"("seconds": 1.2,"images_per_second": 6.5, "validation": null})";
  const std::string earlier_line_2 =
      R"({"epoch": 2,"step": 8,"loss": 2,"classification": 1,"regression": 1,"lr": 0.001,)"
      R"("seconds": 1.2,"images_per_second": 6.5, "validation": null})";
  write("run/epochs.jsonl", earlier_line_1 + "\n" + earlier_line_2 + "\n" + R"({"epoch": 3,"st)" + "\n");
  {
    app::TrainingLog log(path("run"), {"mask", "noMask"}, /*keep_through_epoch=*/1);
    app::EpochRecord record;
    record.epoch = 2;
    record.step = 8;
    record.mean_loss = {1.75, 1.0, 0.75};
    record.lr = 0.0005;
    record.seconds = 2.0;
    record.images_per_second = 4.0;
    log.log_epoch(record);
  }
  std::istringstream lines(read_file(path("run/epochs.jsonl")));
  std::string first, second, rest;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(first, earlier_line_1) << "epoch 1 kept as it was";
  EXPECT_FALSE(std::getline(lines, rest)) << "epoch 2's old line and the cut line are gone: " << rest;
  EXPECT_EQ(second,
            R"({"epoch":2,"step":8,"loss":1.75,"classification":1.0,"regression":0.75,"lr":0.0005,"seconds":2.0,)"
            R"("images_per_second":4.0,"validation":null})");
  EXPECT_EQ(json::parse(first)["epoch"], 1);
}

}  // namespace
}  // namespace maskdet::cli_test
