// Bad input through the `maskdet` program, as a new user meets it: every image is decoded when
// the data set is assembled, so an undecodable or truncated one, or one whose size is not the
// annotation's <size>, is named (file and annotation) before training starts, and --skip-bad
// covers it; a class name that is not UTF-8 is refused with its file and line; classes taken
// from the data are listed with their box counts, and a look-alike of another (a typo) is warned
// about before training; messages carry no source paths, and plurals read right; a snapshot that
// does not fit its model says which file and what differs in one line; every JSON file the
// program writes parses, even where an input file's name is not UTF-8. Tiny runs: seconds.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "apps/data_io/synthetic_voc.h"
#include "apps/maskdet/commands.h"
#include "cli/cli_test_util.h"
#include "data/data_test_util.h"
#include "tensor/creation.h"
#include "tensor/safetensors.h"

namespace maskdet::cli_test {
namespace {

namespace fs = std::filesystem;

// Text of a source position the build would print, "(.../foo.cpp:12)" or "foo.h:3".
bool shows_source_path(const std::string& output) {
  for (const char* ext : {".cpp:", ".h:", ".cu:"})
    if (output.find(ext) != std::string::npos) return true;
  return false;
}

class BadData : public data::test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    data::write_synthetic_voc(path("voc"), 8, 3);
  }
  CommandResult train(const std::string& extra = "") {
    return run_maskdet("train --data " + path("voc") + " --snapshot-path " + path("run") + " " + kTinyTrainFlags + " " +
                       extra);
  }
  void replace_in(const std::string& file, const std::string& from, const std::string& to) {
    std::string text = read_file(path(file));
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from << " in " << file;
    text.replace(at, from.size(), to);
    std::ofstream(path(file), std::ios::binary) << text;
  }
};

TEST_F(BadData, AnUndecodableImageIsNamedBeforeTrainingAndSkipBadCoversIt) {
  std::ofstream(path("voc/images/2.jpg"), std::ios::binary) << "these bytes are no picture";
  const CommandResult strict = train();
  EXPECT_EQ(strict.exit_code, app::kExitFailure) << strict.output;
  EXPECT_NE(strict.output.find("annotations/2.xml"), std::string::npos) << strict.output;
  EXPECT_NE(strict.output.find("images/2.jpg"), std::string::npos) << strict.output;
  EXPECT_EQ(strict.output.find("training on"), std::string::npos) << "found only once training ran\n" << strict.output;

  const CommandResult skipping = train("--skip-bad");
  EXPECT_EQ(skipping.exit_code, 0) << skipping.output;
  EXPECT_NE(skipping.output.find("1 bad sample skipped"), std::string::npos) << skipping.output;
  EXPECT_NE(skipping.output.find("images/2.jpg"), std::string::npos) << skipping.output;
  EXPECT_LT(skipping.output.find("images/2.jpg"), skipping.output.find("training on")) << skipping.output;
}

TEST_F(BadData, ATruncatedJpegIsABadImageNamedByFile) {
  const std::string bytes = read_file(path("voc/images/3.jpg"));
  std::ofstream(path("voc/images/3.jpg"), std::ios::binary) << bytes.substr(0, bytes.size() * 2 / 3);
  const CommandResult strict = train();
  EXPECT_EQ(strict.exit_code, app::kExitFailure) << strict.output;
  EXPECT_NE(strict.output.find("images/3.jpg"), std::string::npos) << strict.output;
  EXPECT_NE(strict.output.find("truncated"), std::string::npos) << strict.output;
  const CommandResult skipping = train("--skip-bad");
  EXPECT_EQ(skipping.exit_code, 0) << skipping.output;
  EXPECT_NE(skipping.output.find("1 bad sample skipped"), std::string::npos) << skipping.output;
}

TEST_F(BadData, AnImageOfAnotherSizeThanItsAnnotationSaysIsAnError) {
  replace_in("voc/annotations/4.xml", "<width>320</width>", "<width>640</width>");
  const CommandResult strict = train();
  EXPECT_EQ(strict.exit_code, app::kExitFailure) << strict.output;
  for (const char* piece : {"annotations/4.xml", "images/4.jpg", "640x240", "320x240"})
    EXPECT_NE(strict.output.find(piece), std::string::npos) << piece << "\n" << strict.output;
}

TEST_F(BadData, AClassNameThatIsNotUtf8IsRefusedWithFileAndLine) {
  replace_in("voc/annotations/5.xml", "<name>mask</name>", "<name>m\xe4sk</name>");  // Latin-1, not UTF-8
  const CommandResult strict = train();
  EXPECT_EQ(strict.exit_code, app::kExitFailure) << strict.output;
  EXPECT_NE(strict.output.find("annotations/5.xml:9"), std::string::npos) << strict.output;
  EXPECT_NE(strict.output.find("UTF-8"), std::string::npos) << strict.output;
  EXPECT_FALSE(fs::exists(path("run/epoch_001.safetensors")));
}

TEST_F(BadData, ClassesFromTheDataAreListedWithCountsAndALookAlikeIsWarnedAbout) {
  replace_in("voc/annotations/5.xml", "<name>noMask</name>", "<name>nomask</name>");
  const CommandResult run = train();
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("classes from the data (no --classes): mask ("), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("nomask (1 box)"), std::string::npos) << run.output;
  for (const char* piece : {"annotations/5.xml", "'nomask' (1 box) differs from 'noMask'", "--classes"})
    EXPECT_NE(run.output.find(piece), std::string::npos) << piece << "\n" << run.output;
  EXPECT_LT(run.output.find("'nomask'"), run.output.find("training on")) << run.output;
}

TEST_F(BadData, TheSkipReportCarriesNoSourcePathsAndCountsInGoodEnglish) {
  std::ofstream(path("voc/annotations/6.xml")) << "<annotation><object>";
  const CommandResult skipping = train("--skip-bad");
  EXPECT_EQ(skipping.exit_code, 0) << skipping.output;
  EXPECT_NE(skipping.output.find("1 bad sample skipped"), std::string::npos) << skipping.output;
  EXPECT_NE(skipping.output.find("6.xml:1: malformed XML"), std::string::npos) << skipping.output;
  EXPECT_FALSE(shows_source_path(skipping.output)) << skipping.output;
  EXPECT_NE(skipping.output.find("trained 1 epoch (1 step)"), std::string::npos) << skipping.output;
}

TEST_F(BadData, ASnapshotThatDoesNotFitItsModelIsNamedWithTheMismatchInOneLine) {
  ASSERT_EQ(train().exit_code, 0);
  // One weight dropped and one of another shape, as a hand-edited or foreign file would have.
  const SafetensorsContents contents = load_safetensors_with_metadata(path("run/epoch_001.safetensors"));
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, tensor] : contents.tensors) {
    if (name == "model.head.classification_head.cls_logits.bias") continue;
    tensors.emplace_back(name, name == "model.head.regression_head.bbox_reg.bias" ? zeros({5}) : tensor);
  }
  ASSERT_EQ(tensors.size() + 1, contents.tensors.size()) << "the key names changed: pick others";
  const std::string doctored = path("doctored.safetensors");
  save_safetensors(doctored, tensors, contents.metadata);

  const CommandResult detect = run_maskdet("detect --snapshot " + doctored + " --out " + path("out") + " " +
                                           path("voc/images/0.jpg"));
  EXPECT_EQ(detect.exit_code, app::kExitFailure) << detect.output;
  const std::string first_line = detect.output.substr(0, detect.output.find('\n'));
  EXPECT_NE(first_line.find(doctored), std::string::npos) << detect.output;
  EXPECT_NE(first_line.find("does not fit"), std::string::npos) << detect.output;
  EXPECT_NE(first_line.find("1 missing"), std::string::npos) << detect.output;
  EXPECT_NE(first_line.find("1 of another shape"), std::string::npos) << detect.output;
  EXPECT_NE(detect.output.find("cls_logits.bias"), std::string::npos) << detect.output;
  EXPECT_FALSE(shows_source_path(detect.output)) << detect.output;
}

TEST_F(BadData, EveryJsonFileTheProgramWritesParses) {
  // A class name beyond ASCII (valid UTF-8), and an input file whose name is not UTF-8 at all
  // (Linux file names are bytes): JSON has no spelling for those bytes, but must stay valid.
  for (int i = 0; i < 8; ++i) {
    std::string text = read_file(path("voc/annotations/" + std::to_string(i) + ".xml"));
    for (size_t at = text.find("<name>noMask</name>"); at != std::string::npos; at = text.find("<name>noMask</name>"))
      text.replace(at, 19, "<name>sin m\xc3\xa1scara \"\\</name>");
    std::ofstream(path("voc/annotations/" + std::to_string(i) + ".xml"), std::ios::binary) << text;
  }
  ASSERT_EQ(train().exit_code, 0);
  const std::string odd_name = path("photo_\xff\xfe.jpg");
  fs::copy_file(path("voc/images/0.jpg"), odd_name);
  const CommandResult evaluate = run_maskdet("evaluate --snapshot " + path("run") + " --out " + path("evaluation"));
  ASSERT_EQ(evaluate.exit_code, 0) << evaluate.output;
  const CommandResult detect =
      run_maskdet("detect --snapshot " + path("run") + " --threshold 0 --out " + path("out") + " '" + odd_name + "'");
  ASSERT_EQ(detect.exit_code, 0) << detect.output;
  EXPECT_EQ(json_problems({path("run/epoch_001.safetensors"), path("run/epochs.jsonl"), path("evaluation/results.json"),
                           path("out/detections.jsonl")}),
            "");
  EXPECT_NE(read_file(path("evaluation/results.json")).find("sin m\xc3\xa1scara"), std::string::npos)
      << "valid UTF-8 is kept as it is";
}

}  // namespace
}  // namespace maskdet::cli_test
