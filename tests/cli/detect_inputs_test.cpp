// `maskdet detect` over a user's pictures: it never writes over an input (an --out folder that
// holds one is refused before anything is written), and neither does `maskdet debug` over a data
// set's images; a batch over a folder goes on past an unreadable or truncated image, names it,
// writes the good images' results and exits 1 at the end (0 with --skip-bad, which reports the
// bad ones as skipped). A tiny snapshot: seconds.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "apps/data_io/synthetic_voc.h"
#include "apps/maskdet/commands.h"
#include "cli/cli_test_util.h"
#include "data/data_test_util.h"

namespace maskdet::cli_test {
namespace {

namespace fs = std::filesystem;

class DetectInputs : public data::test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    data::write_synthetic_voc(path("voc"), 8, 3);
    const CommandResult train =
        run_maskdet("train --data " + path("voc") + " --snapshot-path " + path("run") + " " + kTinyTrainFlags);
    ASSERT_EQ(train.exit_code, 0) << train.output;
  }
  // A folder of two photos (a.jpg, b.jpg); returns its files' bytes.
  std::map<std::string, std::string> make_photos(const std::string& folder) {
    fs::create_directories(path(folder));
    fs::copy_file(path("voc/images/1.jpg"), path(folder + "/a.jpg"));
    fs::copy_file(path("voc/images/2.jpg"), path(folder + "/b.jpg"));
    return folder_bytes(folder);
  }
  // Every file of the folder by path, as its size and a hash of its bytes.
  std::map<std::string, std::string> folder_bytes(const std::string& folder) {
    std::map<std::string, std::string> bytes;
    for (const auto& entry : fs::directory_iterator(path(folder)))
      bytes[entry.path().string()] = fingerprint(read_file(entry.path()));
    return bytes;
  }
};

TEST_F(DetectInputs, NeverWritesOverItsInputs) {
  const auto photos = make_photos("photos");
  const std::string snapshot = " --snapshot " + path("run") + " ";
  fs::create_directory_symlink(path("photos"), path("link"));
  // The folder itself, one of its files, the folder spelt another way, and reached by a link.
  for (const std::string& args : {"--out " + path("photos") + " " + path("photos"),
                                  "--out " + path("photos") + " " + path("photos/a.jpg"),
                                  "--out " + path("photos") + "/./ " + path("voc/images/0.jpg") + " " + path("photos"),
                                  "--out " + path("link") + " " + path("photos")}) {
    const CommandResult detect = run_maskdet("detect" + snapshot + args);
    EXPECT_EQ(detect.exit_code, app::kExitUsage) << args << "\n" << detect.output;
    EXPECT_NE(detect.output.find("--out"), std::string::npos) << detect.output;
    EXPECT_NE(detect.output.find(path("photos")), std::string::npos) << detect.output;
    EXPECT_EQ(folder_bytes("photos"), photos) << "the input folder changed: " << args;
  }
  const CommandResult elsewhere = run_maskdet("detect" + snapshot + "--out " + path("out") + " " + path("photos"));
  ASSERT_EQ(elsewhere.exit_code, 0) << elsewhere.output;
  EXPECT_TRUE(fs::exists(path("out/a.jpg")) && fs::exists(path("out/b.jpg"))) << elsewhere.output;
  EXPECT_EQ(folder_bytes("photos"), photos);
}

TEST_F(DetectInputs, DebugNeverWritesOverTheDataSetsImages) {
  const auto images = folder_bytes("voc/images");
  const CommandResult debug = run_maskdet("debug --data " + path("voc") + " --out " + path("voc/images"));
  EXPECT_EQ(debug.exit_code, app::kExitUsage) << debug.output;
  EXPECT_NE(debug.output.find("--out " + path("voc/images")), std::string::npos) << debug.output;
  EXPECT_EQ(folder_bytes("voc/images"), images);
}

TEST_F(DetectInputs, GoesOnPastBadImagesNamesThemAndFailsAtTheEnd) {
  make_photos("batch");
  const std::string good_bytes = read_file(path("voc/images/3.jpg"));
  std::ofstream(path("batch/c.jpg"), std::ios::binary) << "not a picture";
  std::ofstream(path("batch/d.jpg"), std::ios::binary) << good_bytes.substr(0, good_bytes.size() / 2);  // truncated
  std::ofstream(path("batch/e.jpg"), std::ios::binary) << good_bytes;
  const std::string args = "detect --snapshot " + path("run") + " --threshold 0 --out ";

  const CommandResult strict = run_maskdet(args + path("out") + " " + path("batch"));
  EXPECT_EQ(strict.exit_code, app::kExitFailure) << strict.output;
  for (const char* bad : {"c.jpg", "d.jpg"}) EXPECT_NE(strict.output.find(bad), std::string::npos) << bad << "\n" << strict.output;
  EXPECT_NE(strict.output.find("2 of 5 inputs"), std::string::npos) << strict.output;
  const std::string lines = read_file(path("out/detections.jsonl"));
  for (const char* good : {"a.jpg", "b.jpg", "e.jpg"}) {
    EXPECT_TRUE(fs::exists(path(std::string("out/") + good))) << good << "\n" << strict.output;
    EXPECT_NE(lines.find(std::string("batch/") + good), std::string::npos) << good << " has no detections listed";
  }
  EXPECT_FALSE(fs::exists(path("out/c.jpg")));
  EXPECT_FALSE(fs::exists(path("out/d.jpg"))) << "a truncated JPEG is a bad image, not a grey-filled one";

  const CommandResult skipping = run_maskdet(args + path("out2") + " --skip-bad " + path("batch"));
  EXPECT_EQ(skipping.exit_code, 0) << skipping.output;
  EXPECT_NE(skipping.output.find("skipped 2 of 5 inputs"), std::string::npos) << skipping.output;
  EXPECT_TRUE(fs::exists(path("out2/detections.jsonl")));
}

}  // namespace
}  // namespace maskdet::cli_test
