// Pascal VOC reading: one annotation from text, each malformed-XML and bad-value error naming
// the file, line and element (a class name that is not UTF-8 among them), the flat folder
// layout (with the image-name fallback, said in a warning), the devkit layout with a split
// file, skip_bad, and load_dataset picking the layout by itself.
#include "apps/data_io/load_dataset.h"
#include "apps/data_io/voc_folders.h"
#include "apps/data_io/voc_xml.h"
#include "data/data_test_util.h"

namespace maskdet::data {
namespace {

using test::throws_error_with;

std::string voc(const std::string& filename, const std::string& objects, const std::string& size = "") {
  return "<annotation>\n  <folder>x</folder>\n  <filename>" + filename + "</filename>\n" + size + objects +
         "</annotation>\n";
}

std::string object(const std::string& name, const std::string& box, const std::string& extra = "") {
  return "  <object>\n    <name>" + name + "</name>\n" + extra + "    <bndbox>" + box + "</bndbox>\n  </object>\n";
}

std::string box(int x1, int y1, int x2, int y2) {
  return "<xmin>" + std::to_string(x1) + "</xmin><ymin>" + std::to_string(y1) + "</ymin><xmax>" +
         std::to_string(x2) + "</xmax><ymax>" + std::to_string(y2) + "</ymax>";
}

const std::string kSize = "  <size><width>64</width><height>48</height><depth>3</depth></size>\n";

TEST(VocXml, ReadsFilenameSizeObjectsAndDifficult) {
  const NamedImage im = parse_voc_xml(
      voc("7.jpg", object("mask", box(1, 2, 30, 40)) + object("noMask", "<xmin>3.5</xmin><ymin>4</ymin><xmax>9</xmax><ymax>10</ymax>",
                                                                "    <difficult>1</difficult>\n"),
          kSize),
      "a.xml");
  EXPECT_EQ(im.image_path, "7.jpg");
  EXPECT_EQ(im.width, 64);
  EXPECT_EQ(im.height, 48);
  ASSERT_EQ(im.boxes.size(), 2u);
  EXPECT_EQ(im.boxes[0].class_name, "mask");
  EXPECT_EQ(im.boxes[0].x2, 30);
  EXPECT_FALSE(im.boxes[0].difficult);
  EXPECT_EQ(im.boxes[1].x1, 3.5f);
  EXPECT_TRUE(im.boxes[1].difficult);
  EXPECT_EQ(im.boxes[1].where, "a.xml:9: <object>[2]");
  const NamedImage bare = parse_voc_xml("<annotation/>", "b.xml");
  EXPECT_EQ(bare.width, 0);
  EXPECT_TRUE(bare.boxes.empty());
}

TEST(VocXml, EachErrorNamesTheFileLineAndElement) {
  EXPECT_TRUE(throws_error_with([] { parse_voc_xml("<annotation>\n<object>\n</annotation>\n", "m.xml"); },
                                {"m.xml:2:", "malformed XML", "MISMATCHED_ELEMENT", "name=object"}));
  EXPECT_TRUE(throws_error_with([] { parse_voc_xml("", "e.xml"); }, {"e.xml", "empty"}));
  EXPECT_TRUE(throws_error_with([] { parse_voc_xml("\n<doc/>", "r.xml"); }, {"r.xml:2:", "<doc>", "<annotation>"}));
  EXPECT_TRUE(throws_error_with([] { parse_voc_xml(voc("a.jpg", "  <object><name>mask</name></object>\n"), "n.xml"); },
                                {"n.xml:4:", "<object>[1] has no <bndbox>"}));
  EXPECT_TRUE(throws_error_with(
      [] { parse_voc_xml(voc("a.jpg", object("mask", "<xmin>1</xmin><ymin>1</ymin><xmax>5</xmax>")), "y.xml"); },
      {"y.xml:6:", "<object>[1]/<bndbox> has no <ymax>"}));
  EXPECT_TRUE(throws_error_with(
      [] {
        parse_voc_xml(voc("a.jpg", object("mask", box(1, 1, 5, 5)) +
                                       object("mask", "<xmin>1</xmin><ymin>1</ymin>\n<xmax>five</xmax><ymax>5</ymax>")),
                      "v.xml");
      },
      {"v.xml:11:", "<object>[2]/<bndbox>/<xmax>", "'five'"}));
  EXPECT_TRUE(throws_error_with([] { parse_voc_xml(voc("a.jpg", object("", box(1, 1, 5, 5))), "c.xml"); },
                                {"c.xml:5:", "<object>[1]/<name> is empty"}));
  EXPECT_TRUE(throws_error_with(
      [] { parse_voc_xml(voc("a.jpg", object("mask", box(1, 1, 5, 5), "<difficult>maybe</difficult>")), "d.xml"); },
      {"d.xml:6:", "<object>[1]/<difficult>", "'maybe'"}));
  EXPECT_TRUE(throws_error_with(
      [] { parse_voc_xml(voc("a.jpg", "", "<size>\n<width>-4</width></size>"), "s.xml"); },
      {"s.xml:5:", "<size>/<width>", "'-4'"}));
}

TEST(VocXml, AClassNameThatIsNotUtf8IsRefusedWithFileAndLine) {
  // Latin-1 "m\xe4sk": tinyxml2 passes the bytes through, and JSON has no spelling for them.
  EXPECT_TRUE(throws_error_with([] { parse_voc_xml(voc("a.jpg", object("m\xe4sk", box(1, 1, 5, 5))), "u.xml"); },
                                {"u.xml:5:", "<object>[1]/<name>", "m\\xE4sk", "not UTF-8"}));
  EXPECT_EQ(parse_voc_xml(voc("a.jpg", object("m\xc3\xa1scara", box(1, 1, 5, 5))), "ok.xml").boxes[0].class_name,
            "m\xc3\xa1scara");
}

TEST(VocXml, WrittenXmlReadsBack) {
  const ImageAnnotation a{"/some/dir/3.jpg", 64, 48, {{1, 2, 3.5f, 4, 1, true}, {5, 6, 7, 8, 0, false}}};
  const NamedImage back = parse_voc_xml(voc_xml_string(a, {"mask", "noMask"}), "w.xml");
  EXPECT_EQ(back.image_path, "3.jpg");
  EXPECT_EQ(back.width, 64);
  ASSERT_EQ(back.boxes.size(), 2u);
  EXPECT_EQ(back.boxes[0].class_name, "noMask");
  EXPECT_EQ(back.boxes[0].x2, 3.5f);
  EXPECT_TRUE(back.boxes[0].difficult);
  EXPECT_THROW(voc_xml_string(a, {"mask"}), Error);
}

class VocFolders : public test::TempDirTest {
 protected:
  Dataset load(const std::string& root, LoadOptions o = {}, const std::string& classes = "") {
    return load_dataset(root, classes, o, &report_);
  }
  LoadReport report_;
};

TEST_F(VocFolders, FlatLayoutWithImageNameFallback) {
  write("set/images/0.jpg", "x");
  write("set/images/1.png", "x");
  write("set/annotations/0.xml", voc("0.jpg", object("noMask", box(1, 1, 9, 9)), kSize));
  // <filename> names a file that is not there: the XML's own name with another extension is.
  write("set/annotations/1.xml", voc("renamed.jpg", object("mask", box(2, 2, 8, 8)) + object("mask", box(10, 10, 20, 20))));
  write("set/annotations/notes.txt", "ignored");
  const Dataset d = load(path("set"));
  EXPECT_EQ(d.classes, (std::vector<std::string>{"mask", "noMask"}));
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(d.images[0].image_path, path("set/images/0.jpg"));
  EXPECT_EQ(d.images[0].width, 64);
  EXPECT_EQ(d.images[0].boxes[0].class_id, 1);
  EXPECT_EQ(d.images[1].image_path, path("set/images/1.png"));
  EXPECT_EQ(boxes_per_class(d), (std::vector<size_t>{2, 1}));
  // Said, so that a <filename> typo does not pair an annotation with the wrong picture unseen.
  ASSERT_EQ(report_.warnings(), 1u) << report_.summary();
  for (const char* piece : {"1.xml", "<filename> renamed.jpg", "1.png"})
    EXPECT_NE(report_.warning_messages()[0].find(piece), std::string::npos) << report_.warning_messages()[0];
}

TEST_F(VocFolders, MissingImagesAreErrorsOnlyWhenChecked) {
  write("set/images/placeholder", "");
  write("set/annotations/5.xml", voc("5.jpg", object("mask", box(1, 1, 9, 9))));
  EXPECT_TRUE(throws_error_with([&] { load(path("set")); }, {"5.xml", "images/5.jpg", "not found"}));
  LoadOptions o;
  o.check_images = ImageCheck::None;
  EXPECT_EQ(load(path("set"), o).images[0].image_path, path("set/images/5.jpg"));
  // Present but not an image: found only when decoding is asked for.
  write("set/images/5.jpg", "not a JPEG");
  EXPECT_EQ(load(path("set")).images.size(), 1u);
  o.check_images = ImageCheck::Decodes;
  EXPECT_TRUE(throws_error_with([&] { load(path("set"), o); }, {"5.xml", "images/5.jpg", "cannot be decoded"}));
}

TEST_F(VocFolders, BoxErrorsNameTheObject) {
  write("set/images/0.jpg", "x");
  write("set/annotations/0.xml", voc("0.jpg", object("mask", box(1, 1, 9, 9)) + object("mask", box(9, 1, 9, 9)), kSize));
  EXPECT_TRUE(throws_error_with([&] { load(path("set")); }, {"0.xml:9: <object>[2]", "x2 (9) must be greater than x1 (9)"}));
  write("set/annotations/0.xml", voc("0.jpg", object("beard", box(1, 1, 9, 9)), kSize));
  write("classes.txt", "mask\nnoMask\n");
  EXPECT_TRUE(throws_error_with([&] { load(path("set"), {}, path("classes.txt")); },
                                {"0.xml:5: <object>[1]", "unknown class 'beard'"}));
}

TEST_F(VocFolders, ClipOrRejectBoxesLeavingTheImage) {
  write("set/images/0.jpg", "x");
  write("set/annotations/0.xml", voc("0.jpg", object("mask", box(-3, 1, 70, 9)), kSize));
  const Dataset clipped = load(path("set"));
  EXPECT_EQ(clipped.images[0].boxes[0], (BoxAnnotation{0, 1, 64, 9, 0, false}));
  EXPECT_EQ(report_.warnings(), 1u);
  LoadOptions reject;
  reject.out_of_image = OutOfImagePolicy::Reject;
  EXPECT_TRUE(throws_error_with([&] { load(path("set"), reject); }, {"0.xml:5: <object>[1]", "outside the 64x48 image"}));
}

TEST_F(VocFolders, SkipBadCountsAndReports) {
  write("set/images/0.jpg", "x");
  write("set/images/1.jpg", "x");
  write("set/images/2.jpg", "x");
  write("set/annotations/0.xml", voc("0.jpg", object("mask", box(1, 1, 9, 9))));
  write("set/annotations/1.xml", "<annotation><object>");
  write("set/annotations/2.xml", voc("2.jpg", object("mask", box(5, 5, 1, 9))));
  write("set/annotations/3.xml", voc("3.jpg", object("mask", box(1, 1, 9, 9))));  // no image
  LoadOptions o;
  o.skip_bad = true;
  std::ostringstream log;
  o.log = &log;
  const Dataset d = load(path("set"), o);
  ASSERT_EQ(d.images.size(), 1u);
  EXPECT_EQ(d.images[0].image_path, path("set/images/0.jpg"));
  EXPECT_EQ(report_.skipped(), 3u);
  EXPECT_NE(report_.skip_reasons()[0].find("1.xml:1: malformed XML"), std::string::npos) << report_.skip_reasons()[0];
  EXPECT_NE(log.str().find("3 bad samples skipped"), std::string::npos) << log.str();
}

TEST_F(VocFolders, DevkitLayoutWithASplit) {
  for (const char* id : {"000001", "000002", "000003"}) {
    write(std::string("VOC2007/JPEGImages/") + id + ".jpg", "x");
    write(std::string("VOC2007/Annotations/") + id + ".xml", voc(std::string(id) + ".jpg", object("mask", box(1, 1, 9, 9))));
  }
  write("VOC2007/ImageSets/Main/train.txt", "000003\n000001  1\n\n");
  write("VOC2007/ImageSets/Main/broken.txt", "000001\n000009\n");
  LoadOptions o;
  EXPECT_EQ(load(path("VOC2007"), o).images.size(), 3u);
  o.voc_split = "train";
  const Dataset d = load(path("VOC2007"), o);
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(d.images[0].image_path, path("VOC2007/JPEGImages/000003.jpg"));
  o.voc_split = "broken";
  EXPECT_TRUE(throws_error_with([&] { load(path("VOC2007"), o); }, {"broken.txt:2:", "000009.xml not found"}));
  o.voc_split = "val";
  EXPECT_TRUE(throws_error_with([&] { load(path("VOC2007"), o); }, {"VOC split 'val'", "val.txt not found"}));
}

TEST_F(VocFolders, LoadDatasetSaysWhatItLookedFor) {
  EXPECT_TRUE(throws_error_with([&] { load(path("nothing")); }, {"nothing", "not found"}));
  write("empty/readme", "");
  EXPECT_TRUE(throws_error_with([&] { load(path("empty")); }, {"empty", "Annotations/", "annotations/", ".csv"}));
  write("file.txt", "");
  EXPECT_TRUE(throws_error_with([&] { load(path("file.txt")); }, {"file.txt", ".csv"}));
  // XML files with their images beside them.
  write("flat/0.xml", voc("0.jpg", object("mask", box(1, 1, 9, 9))));
  write("flat/0.jpg", "x");
  EXPECT_EQ(load(path("flat")).images[0].image_path, path("flat/0.jpg"));
  // A CSV goes to the CSV reader, classes file included.
  write("csv/img.jpg", "x");
  write("csv/classes.csv", "noMask,0\nmask,1\n");
  write("csv/ann.csv", "img.jpg,1,1,9,9,mask\n");
  const Dataset d = load(path("csv/ann.csv"), {}, path("csv/classes.csv"));
  EXPECT_EQ(d.classes, (std::vector<std::string>{"noMask", "mask"}));
  EXPECT_EQ(d.images[0].boxes[0].class_id, 1);
}

TEST(FaceMaskDataSet, SixHundredImagesWith398MaskAnd317NoMaskBoxes) {
  const std::string root = MASKDET_SOURCE_DIR "/../shared/data/facemask";
  if (!std::filesystem::is_directory(root)) GTEST_SKIP() << "the face-mask data set is not at " << root;
  LoadReport report;
  const Dataset d = load_dataset(root, "", LoadOptions{}, &report);
  EXPECT_EQ(d.images.size(), 600u);
  EXPECT_EQ(d.classes, (std::vector<std::string>{"mask", "noMask"}));
  EXPECT_EQ(boxes_per_class(d), (std::vector<size_t>{398, 317}));
  EXPECT_EQ(report.skipped(), 0u);
  EXPECT_EQ(report.warnings(), 0u) << report.summary();
  for (const auto& image : d.images) ASSERT_GT(image.width, 0) << image.image_path;
}

}  // namespace
}  // namespace maskdet::data
