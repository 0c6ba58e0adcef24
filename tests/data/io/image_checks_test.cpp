// The image checks a data set gets when it is assembled with ImageCheck::Decodes (what the
// `maskdet` commands ask for): a truncated JPEG is a bad image named by its file (libjpeg only
// warns, and OpenCV fills the missing part with grey), from a file or from memory, while a JPEG
// with bytes after its end, or a progressive one, is fine; a decoded size that is not the
// annotation's <size> is an error naming both; with skip_bad those images are left out and
// counted.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "apps/data_io/image_decode.h"
#include "apps/data_io/load_dataset.h"
#include "data/data_test_util.h"

namespace maskdet::data {
namespace {

using test::throws_error_with;

std::string voc(const std::string& filename, int width, int height, const std::string& class_name = "mask") {
  return "<annotation>\n  <filename>" + filename + "</filename>\n  <size><width>" + std::to_string(width) +
         "</width><height>" + std::to_string(height) + "</height></size>\n  <object>\n    <name>" + class_name +
         "</name>\n    <bndbox><xmin>2</xmin><ymin>2</ymin><xmax>20</xmax><ymax>20</ymax></bndbox>\n  </object>\n"
         "</annotation>\n";
}

class ImageChecks : public test::TempDirTest {
 protected:
  // A 64x48 JPEG with detail everywhere, so its entropy-coded data fills the file.
  std::string jpeg_bytes() const {
    cv::Mat noise(48, 64, CV_8UC3);
    cv::randu(noise, 0, 255);
    std::vector<uchar> bytes;
    EXPECT_TRUE(cv::imencode(".jpg", noise, bytes));
    return std::string(bytes.begin(), bytes.end());
  }
  Dataset load(const std::string& root, bool skip_bad = false) {
    LoadOptions o;
    o.check_images = ImageCheck::Decodes;
    o.skip_bad = skip_bad;
    o.log = nullptr;
    return load_dataset(root, "", o, &report_);
  }
  LoadReport report_;
};

TEST_F(ImageChecks, ATruncatedJpegIsABadImage) {
  const std::string whole = jpeg_bytes();
  const std::string cut = write("cut.jpg", whole.substr(0, whole.size() / 2));
  EXPECT_TRUE(throws_error_with([&] { decode_image_file(cut); }, {cut, "truncated"}));
  EXPECT_TRUE(throws_error_with([&] { decode_image_bytes(whole.substr(0, whole.size() - 40), "upload.jpg"); },
                                {"upload.jpg", "truncated"}));
  // Whole, and whole with something appended after its end (some cameras do): fine.
  EXPECT_EQ(decode_image_file(write("whole.jpg", whole)).size(), (PixelSize{48, 64}));
  EXPECT_EQ(decode_image_file(write("trailer.jpg", whole + std::string(100, 'x'))).size(), (PixelSize{48, 64}));
  // A progressive JPEG has several scans, with tables between them.
  cv::Mat noise(48, 64, CV_8UC3);
  cv::randu(noise, 0, 255);
  std::vector<uchar> progressive;
  ASSERT_TRUE(cv::imencode(".jpg", noise, progressive, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
  const std::string bytes(progressive.begin(), progressive.end());
  EXPECT_EQ(decode_image_bytes(bytes, "progressive.jpg").size(), (PixelSize{48, 64}));
  EXPECT_TRUE(throws_error_with([&] { decode_image_bytes(bytes.substr(0, bytes.size() * 3 / 4), "cut.jpg"); },
                                {"cut.jpg", "truncated"}));
}

TEST_F(ImageChecks, BadImagesAreFoundWhenTheSetIsAssembledAndSkipBadCoversThem) {
  const std::string whole = jpeg_bytes();
  write("set/images/0.jpg", whole);
  write("set/images/1.jpg", whole.substr(0, whole.size() / 2));
  write("set/images/2.jpg", "not an image");
  write("set/images/3.jpg", whole);
  for (int i = 0; i < 4; ++i) write("set/annotations/" + std::to_string(i) + ".xml", voc(std::to_string(i) + ".jpg", 64, 48));
  EXPECT_TRUE(throws_error_with([&] { load(path("set")); }, {"1.xml", "images/1.jpg", "truncated"}));
  const Dataset d = load(path("set"), /*skip_bad=*/true);
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(report_.skipped(), 2u);
  EXPECT_NE(report_.skip_reasons()[1].find("images/2.jpg"), std::string::npos) << report_.skip_reasons()[1];
}

TEST_F(ImageChecks, ADecodedSizeOtherThanTheAnnotationsIsAnError) {
  write("set/images/0.jpg", jpeg_bytes());
  // The boxes fit either size: only the sizes tell that the boxes were drawn on another image.
  write("set/annotations/0.xml", voc("0.jpg", 128, 96));
  EXPECT_TRUE(throws_error_with([&] { load(path("set")); }, {"0.xml", "images/0.jpg", "128x96", "64x48"}));
  EXPECT_TRUE(load(path("set"), /*skip_bad=*/true).images.empty());
  EXPECT_EQ(report_.skipped(), 1u);
  // No <size> at all: nothing to compare.
  write("set/annotations/0.xml", voc("0.jpg", 0, 0));
  EXPECT_EQ(load(path("set")).images[0].width, 64);
}

}  // namespace
}  // namespace maskdet::data
