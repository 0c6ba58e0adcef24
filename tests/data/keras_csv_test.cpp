// keras-retinanet CSV and classes files: what is read, and one test per kind of bad input, each
// asserting that the message names the file and line. Also the checks every reader shares
// (dataset_assembly.h): class discovery, clipping or rejecting boxes that leave the image,
// skip_bad counting.
#include "apps/data/keras_csv.h"

#include "apps/data/text_fields.h"
#include "data/data_test_util.h"

namespace maskdet::data {
namespace {

using test::throws_error_with;

class KerasCsv : public test::TempDirTest {
 protected:
  LoadOptions no_image_check() const {
    LoadOptions o;
    o.check_images = ImageCheck::None;
    return o;
  }
  Dataset read(const std::string& csv_text, const std::string& classes_text = "", LoadOptions o = {}) {
    const std::string csv = write("ann.csv", csv_text);
    const std::string classes = classes_text.empty() ? "" : write("classes.csv", classes_text);
    return read_keras_csv(csv, classes, o, report_);
  }
  LoadReport report_;
};

TEST_F(KerasCsv, ReadsRowsEmptyImagesAndResolvesPathsAgainstTheCsvFolder) {
  const Dataset d = read(
      "img/a.jpg,10,20,30,40,mask\n"
      "img/b.jpg,,,,,\n"
      "img/a.jpg,1.5,2,3.5,4,noMask\r\n"
      "/abs/c.png,0,0,5,5,mask\n"
      "\n",
      "mask,0\nnoMask,1\n", no_image_check());
  ASSERT_EQ(d.classes, (std::vector<std::string>{"mask", "noMask"}));
  ASSERT_EQ(d.images.size(), 3u);
  EXPECT_EQ(d.images[0].image_path, path("img/a.jpg"));
  EXPECT_EQ(d.images[1].image_path, path("img/b.jpg"));
  EXPECT_EQ(d.images[2].image_path, "/abs/c.png");
  ASSERT_EQ(d.images[0].boxes.size(), 2u);
  EXPECT_EQ(d.images[0].boxes[0], (BoxAnnotation{10, 20, 30, 40, 0, false}));
  EXPECT_EQ(d.images[0].boxes[1], (BoxAnnotation{1.5f, 2, 3.5f, 4, 1, false}));
  EXPECT_TRUE(d.images[1].boxes.empty());
  EXPECT_EQ(d.images[0].width, 0);  // CSV says nothing about sizes
  EXPECT_EQ(boxes_per_class(d), (std::vector<size_t>{2, 1}));
}

TEST_F(KerasCsv, QuotedFieldsFollowPythonsCsvModule) {
  const auto fields = split_csv_line(R"("a,b.jpg",1,2,3,4,"say ""hi""")");
  ASSERT_TRUE(fields.has_value());
  EXPECT_EQ(*fields, (std::vector<std::string>{"a,b.jpg", "1", "2", "3", "4", "say \"hi\""}));
  EXPECT_FALSE(split_csv_line(R"("open,1,2)").has_value());
  EXPECT_EQ(split_csv_line("")->size(), 1u);
}

TEST_F(KerasCsv, StrictNumbers) {
  EXPECT_EQ(parse_number(" 12.5 "), 12.5);
  EXPECT_EQ(parse_number("+3"), 3.0);
  EXPECT_FALSE(parse_number("12abc").has_value());
  EXPECT_FALSE(parse_number("nan").has_value());
  EXPECT_FALSE(parse_number("inf").has_value());
  EXPECT_FALSE(parse_number("").has_value());
  EXPECT_FALSE(parse_coordinate("1e300").has_value());
  EXPECT_EQ(parse_integer("-7"), -7);
  EXPECT_FALSE(parse_integer("1.0").has_value());
}

TEST_F(KerasCsv, ClassesAreDiscoveredSortedWithoutAClassesFile) {
  const Dataset d = read("a.jpg,0,0,2,2,noMask\nb.jpg,0,0,2,2,mask\nc.jpg,0,0,2,2,beard\n", "", no_image_check());
  EXPECT_EQ(d.classes, (std::vector<std::string>{"beard", "mask", "noMask"}));
  EXPECT_EQ(d.images[0].boxes[0].class_id, 2);
  EXPECT_EQ(d.images[1].boxes[0].class_id, 1);
}

TEST_F(KerasCsv, ClassesFileFormats) {
  EXPECT_EQ(parse_classes_csv("noMask,1\nmask,0\n", "c.csv"), (std::vector<std::string>{"mask", "noMask"}));
  EXPECT_EQ(parse_classes_csv("mask\nnoMask\n", "c.txt"), (std::vector<std::string>{"mask", "noMask"}));
  EXPECT_TRUE(throws_error_with([] { parse_classes_csv("mask,0\nnoMask\n", "c.csv"); },
                                {"c.csv:2:", "expected 2 columns"}));
  EXPECT_TRUE(throws_error_with([] { parse_classes_csv("mask,zero\n", "c.csv"); }, {"c.csv:1:", "'zero'", "integer"}));
  EXPECT_TRUE(throws_error_with([] { parse_classes_csv("mask,0\nmask,1\n", "c.csv"); }, {"c.csv:2:", "twice"}));
  EXPECT_TRUE(throws_error_with([] { parse_classes_csv("mask,0\nnoMask,0\n", "c.csv"); }, {"c.csv:2:", "id 0"}));
  EXPECT_TRUE(throws_error_with([] { parse_classes_csv("mask,0\nnoMask,2\n", "c.csv"); },
                                {"c.csv", "without gaps", "1 is missing"}));
  EXPECT_TRUE(throws_error_with([this] { read_classes_file(path("absent.csv")); }, {"absent.csv"}));
}

TEST_F(KerasCsv, EachBadRowNamesTheFileAndLine) {
  const LoadOptions o = no_image_check();
  EXPECT_TRUE(throws_error_with([&] { read("a.jpg,1,2,3,4,mask\nb.jpg,1,2,3\n", "", o); },
                                {"ann.csv:2:", "expected 6 columns", "got 4"}));
  EXPECT_TRUE(throws_error_with([&] { read("a.jpg,1,two,3,4,mask\n", "", o); }, {"ann.csv:1:", "y1", "'two'"}));
  EXPECT_TRUE(throws_error_with([&] { read("a.jpg,1,2,3,4,mask\n\na.jpg,5,2,3,4,mask\n", "", o); },
                                {"ann.csv:3:", "x2 (3) must be greater than x1 (5)"}));
  EXPECT_TRUE(throws_error_with([&] { read("a.jpg,1,4,3,4,mask\n", "", o); }, {"ann.csv:1:", "y2 (4)", "y1 (4)"}));
  EXPECT_TRUE(throws_error_with([&] { read("a.jpg,1,2,3,4,beard\n", "mask,0\nnoMask,1\n", o); },
                                {"ann.csv:1:", "unknown class 'beard'", "mask, noMask"}));
  EXPECT_TRUE(throws_error_with([&] { read(",1,2,3,4,mask\n", "", o); }, {"ann.csv:1:", "image path is empty"}));
  EXPECT_TRUE(throws_error_with([&] { read("a.jpg,1,2,3,4,\n", "", o); }, {"ann.csv:1:", "class name is empty"}));
  EXPECT_TRUE(throws_error_with([&] { read("\"a.jpg,1,2,3,4,mask\n", "", o); }, {"ann.csv:1:", "not closed"}));
  EXPECT_TRUE(throws_error_with([&] { read_keras_csv(path("none.csv"), "", o, report_); }, {"none.csv"}));
}

TEST_F(KerasCsv, MissingImagesAreReportedWhenChecked) {
  write("img/a.jpg", "not really a jpeg, but it exists");
  LoadOptions o;
  o.check_images = ImageCheck::Exists;
  EXPECT_EQ(read("img/a.jpg,1,2,3,4,mask\n", "", o).images.size(), 1u);
  EXPECT_TRUE(throws_error_with([&] { read("img/a.jpg,1,2,3,4,mask\nimg/gone.jpg,,,,,\n", "", o); },
                                {"ann.csv:2", "gone.jpg", "not found"}));
}

TEST_F(KerasCsv, SkipBadLeavesOutWholeImagesAndCountsThem) {
  LoadOptions o = no_image_check();
  o.skip_bad = true;
  const Dataset d = read(
      "good.jpg,1,2,3,4,mask\n"
      "bad.jpg,1,2,3,4,mask\n"  // bad.jpg goes for line 4: this good row too
      "flat.jpg,9,2,3,4,mask\n"  // x2 <= x1, found when boxes are checked
      "bad.jpg,1,2,x,4,mask\n"
      "bad.jpg,1,2,y,4,mask\n"   // same image: counted once
      "short,1,2\n"              // wrong width: its image goes
      ",1,2,3,4,mask\n"          // no image at all: one bad sample by itself
      "empty.jpg,,,,,\n",
      "", o);
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(d.images[0].image_path, path("good.jpg"));
  EXPECT_EQ(d.images[1].image_path, path("empty.jpg"));
  EXPECT_EQ(report_.skipped(), 4u);
  ASSERT_EQ(report_.skip_reasons().size(), 4u);
  const char* expected[] = {"ann.csv:4:", "ann.csv:6:", "ann.csv:7:", "ann.csv:3:"};
  for (int i = 0; i < 4; ++i)
    EXPECT_NE(report_.skip_reasons()[i].find(expected[i]), std::string::npos) << report_.skip_reasons()[i];
  EXPECT_NE(report_.summary().find("4 bad samples skipped"), std::string::npos) << report_.summary();
}

TEST_F(KerasCsv, ReportKeepsOnlyTheFirstMessages) {
  LoadReport r(2);
  for (int i = 0; i < 5; ++i) r.warn(std::to_string(i));
  EXPECT_EQ(r.warnings(), 5u);
  EXPECT_EQ(r.warning_messages(), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(LoadReport().summary(), "");
}

// The shared checks, on annotations that know their image's size.
class Assembly : public test::TempDirTest {
 protected:
  static std::vector<NamedImage> one_box(float x1, float y1, float x2, float y2) {
    return {{"im.jpg", 100, 50, {{x1, y1, x2, y2, "mask", false, "a.xml:7 <object>[1]"}}, "a.xml"}};
  }
  Dataset assemble(std::vector<NamedImage> images, OutOfImagePolicy policy, bool skip_bad = false) {
    LoadOptions o;
    o.check_images = ImageCheck::None;
    o.out_of_image = policy;
    o.skip_bad = skip_bad;
    return assemble_dataset(std::move(images), {}, o, report_);
  }
  LoadReport report_;
};

TEST_F(Assembly, ClipsBoxesLeavingTheImageWithAWarning) {
  const Dataset d = assemble(one_box(-5, 10, 120, 50), OutOfImagePolicy::Clip);
  EXPECT_EQ(d.images[0].boxes[0], (BoxAnnotation{0, 10, 100, 50, 0, false}));
  EXPECT_EQ(report_.warnings(), 1u);
  EXPECT_NE(report_.warning_messages()[0].find("a.xml:7 <object>[1]"), std::string::npos);
  EXPECT_NE(report_.warning_messages()[0].find("clipped to (0, 10, 100, 50)"), std::string::npos)
      << report_.warning_messages()[0];
  // A box touching the border (VOC's xmax = width) is inside.
  EXPECT_EQ(assemble(one_box(1, 1, 100, 50), OutOfImagePolicy::Clip).images[0].boxes[0].x2, 100);
  EXPECT_EQ(report_.warnings(), 1u);
}

TEST_F(Assembly, RejectsBoxesLeavingTheImageWhenAsked) {
  EXPECT_TRUE(throws_error_with([&] { assemble(one_box(-5, 10, 120, 50), OutOfImagePolicy::Reject); },
                                {"a.xml:7 <object>[1]", "outside the 100x50 image"}));
  EXPECT_TRUE(throws_error_with([&] { assemble(one_box(150, 10, 170, 20), OutOfImagePolicy::Clip); },
                                {"entirely outside"}));
  const Dataset d = assemble(one_box(-5, 10, 120, 50), OutOfImagePolicy::Reject, /*skip_bad=*/true);
  EXPECT_TRUE(d.images.empty());
  EXPECT_EQ(report_.skipped(), 1u);
}

TEST_F(Assembly, ProbedSizesMustBeTheAnnotationsAndBoundTheBoxes) {
  LoadOptions o;
  o.check_images = ImageCheck::Decodes;
  o.out_of_image = OutOfImagePolicy::Reject;
  const ImageSizeProbe probe = [](const std::string&) { return PixelSize{40, 80}; };
  auto images = one_box(1, 1, 90, 30);
  images[0].image_path = write("im.jpg", "the probe decides what this decodes to");
  // The annotation says 100x50: its boxes were drawn on another picture.
  EXPECT_TRUE(throws_error_with([&] { assemble_dataset(images, {}, o, report_, probe); },
                                {"im.jpg", "size is 100x50", "decodes to 80x40"}));
  // No size in the annotation: the decoded one bounds the boxes.
  images[0].width = images[0].height = 0;
  EXPECT_TRUE(throws_error_with([&] { assemble_dataset(images, {}, o, report_, probe); }, {"outside the 80x40"}));
  EXPECT_EQ(report_.warnings(), 0u);
}

}  // namespace
}  // namespace maskdet::data
