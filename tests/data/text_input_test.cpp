// Text files as users' editors leave them: a UTF-8 byte-order mark before the first CSV path or
// class name is not part of it; --classes naming a folder or an empty file is an error, not an
// absent list; a class name that is not UTF-8 is refused with its file and line; classes
// discovered from the data come with a warning for names that differ only in case or
// punctuation (a typo such as "nomask"); and the load report reads as English, without the
// source positions of the build.
#include <filesystem>

#include "apps/data/keras_csv.h"
#include "data/data_test_util.h"

namespace maskdet::data {
namespace {

using test::throws_error_with;

const std::string kBom = "\xEF\xBB\xBF";

class TextInput : public test::TempDirTest {
 protected:
  Dataset read(const std::string& csv_text, const std::string& classes_path = "") {
    LoadOptions o;
    o.check_images = ImageCheck::None;
    return read_keras_csv(write("ann.csv", csv_text), classes_path, o, report_);
  }
  LoadReport report_;
};

TEST_F(TextInput, AByteOrderMarkIsNotPartOfTheFirstPathOrClass) {
  const Dataset d = read(kBom + "img/a.jpg,1,2,3,4,mask\n", write("classes.csv", kBom + "mask,0\nnoMask,1\n"));
  ASSERT_EQ(d.images.size(), 1u);
  EXPECT_EQ(d.images[0].image_path, path("img/a.jpg"));
  EXPECT_EQ(d.classes, (std::vector<std::string>{"mask", "noMask"}));
  EXPECT_EQ(read_classes_file(write("list.txt", kBom + "mask\nnoMask\n")), (std::vector<std::string>{"mask", "noMask"}));
}

TEST_F(TextInput, AClassesFileThatIsAFolderOrEmptyIsAnError) {
  std::filesystem::create_directories(path("folder"));
  EXPECT_TRUE(throws_error_with([&] { read("a.jpg,1,2,3,4,mask\n", path("folder")); }, {path("folder"), "folder"}));
  EXPECT_TRUE(throws_error_with([&] { read("a.jpg,1,2,3,4,mask\n", write("empty.csv", "")); },
                                {"empty.csv", "no class"}));
  EXPECT_TRUE(throws_error_with([&] { read("a.jpg,1,2,3,4,mask\n", write("blank.csv", kBom + "\n  \n")); },
                                {"blank.csv", "no class"}));
}

TEST_F(TextInput, ClassNamesMustBeUtf8) {
  EXPECT_TRUE(throws_error_with([&] { read("a.jpg,1,2,3,4,mask\nb.jpg,1,2,3,4,m\xe4sk\n"); },
                                {"ann.csv:2", "UTF-8"}));
  EXPECT_TRUE(throws_error_with([&] { read_classes_file(write("classes.txt", "mask\nno\xc3Mask\n")); },
                                {"classes.txt:2", "UTF-8"}));
  EXPECT_TRUE(throws_error_with([&] { read_classes_file(write("classes.csv", "mask,0\n\xff,1\n")); },
                                {"classes.csv:2", "UTF-8"}));
  // Beyond ASCII is fine.
  EXPECT_EQ(read("a.jpg,1,2,3,4,m\xc3\xa1scara\n").classes, (std::vector<std::string>{"m\xc3\xa1scara"}));
}

TEST_F(TextInput, ClassesThatDifferOnlyInCaseOrPunctuationAreWarnedAbout) {
  const Dataset d = read("a.jpg,1,2,3,4,mask\nb.jpg,1,2,3,4,noMask\nc.jpg,1,2,3,4,noMask\nd.jpg,1,2,3,4,nomask\n");
  EXPECT_EQ(d.classes.size(), 3u);
  ASSERT_EQ(report_.warnings(), 1u) << report_.summary();
  const std::string& warning = report_.warning_messages()[0];
  for (const char* piece : {"'nomask'", "1 box", "'noMask'", "2 boxes", "ann.csv:4", "--classes"})
    EXPECT_NE(warning.find(piece), std::string::npos) << piece << ": " << warning;
  EXPECT_NE(report_.summary().find("1 warning:"), std::string::npos) << report_.summary();
  // A class list says what the classes are: no guessing then.
  LoadReport quiet;
  LoadOptions o;
  o.check_images = ImageCheck::None;
  EXPECT_TRUE(throws_error_with(
      [&] { read_keras_csv(path("ann.csv"), write("classes.csv", "mask,0\nnoMask,1\n"), o, quiet); },
      {"ann.csv:4", "unknown class 'nomask'"}));
}

TEST_F(TextInput, TheReportReadsAsEnglishWithoutSourcePositions) {
  LoadOptions o;
  o.check_images = ImageCheck::None;
  o.skip_bad = true;
  read_keras_csv(write("ann.csv", "a.jpg,1,2,3,4,mask\nb.jpg,5,2,3,4,mask\n"), "", o, report_);
  ASSERT_EQ(report_.skipped(), 1u);
  const std::string summary = report_.summary();
  EXPECT_NE(summary.find("1 bad sample skipped"), std::string::npos) << summary;
  EXPECT_NE(summary.find("ann.csv:2"), std::string::npos) << summary;
  EXPECT_EQ(summary.find(".cpp:"), std::string::npos) << summary;
  EXPECT_EQ(report_.skip_reasons()[0].find(".cpp"), std::string::npos) << report_.skip_reasons()[0];
  LoadReport one;
  one.warn("w");
  EXPECT_EQ(one.summary(), "1 warning:\n  w");
}

}  // namespace
}  // namespace maskdet::data
