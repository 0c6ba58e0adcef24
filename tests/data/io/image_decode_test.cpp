// Image decoding: grayscale, RGBA and 16-bit PNGs all come out as 8-bit RGB; a JPEG carrying an
// EXIF orientation tag (spliced in by hand: OpenCV writes none) comes out rotated, from a file
// and from memory; and unreadable input names the file.
#include "apps/data_io/image_decode.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "apps/data_io/image_write.h"
#include "data/data_test_util.h"

namespace maskdet::data {
namespace {

using test::throws_error_with;

class ImageDecode : public test::TempDirTest {
 protected:
  std::string write_mat(const std::string& name, const cv::Mat& mat) {
    const std::string p = path(name);
    EXPECT_TRUE(cv::imwrite(p, mat));
    return p;
  }
};

TEST_F(ImageDecode, GrayBecomesThreeEqualChannels) {
  cv::Mat gray(10, 20, CV_8UC1);
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 20; ++x) gray.at<uint8_t>(y, x) = static_cast<uint8_t>(x * 12 + y);
  const RgbImage im = decode_image_file(write_mat("gray.png", gray));
  ASSERT_EQ(im.size(), (PixelSize{10, 20}));
  EXPECT_EQ(im.at(3, 7)[0], 7 * 12 + 3);
  EXPECT_EQ(im.at(3, 7)[1], 7 * 12 + 3);
  EXPECT_EQ(im.at(3, 7)[2], 7 * 12 + 3);
}

TEST_F(ImageDecode, AlphaIsDroppedAndChannelsAreRgb) {
  cv::Mat bgra(4, 5, CV_8UC4, cv::Scalar(10, 20, 30, 0));  // fully transparent: colour kept as is
  bgra.at<cv::Vec4b>(1, 2) = {200, 150, 100, 255};
  const RgbImage im = decode_image_file(write_mat("rgba.png", bgra));
  EXPECT_EQ(std::vector<uint8_t>(im.at(0, 0), im.at(0, 0) + 3), (std::vector<uint8_t>{30, 20, 10}));
  EXPECT_EQ(std::vector<uint8_t>(im.at(1, 2), im.at(1, 2) + 3), (std::vector<uint8_t>{100, 150, 200}));
}

TEST_F(ImageDecode, SixteenBitIsScaledToEightBit) {
  cv::Mat deep(3, 4, CV_16UC3, cv::Scalar(0, 257 * 100, 65535));  // B, G, R
  deep.at<cv::Vec3w>(2, 3) = {1000, 30000, 65000};
  const RgbImage im = decode_image_file(write_mat("deep.png", deep));
  EXPECT_EQ(std::vector<uint8_t>(im.at(0, 0), im.at(0, 0) + 3), (std::vector<uint8_t>{255, 100, 0}));
  EXPECT_EQ(std::vector<uint8_t>(im.at(2, 3), im.at(2, 3) + 3), (std::vector<uint8_t>{253, 117, 4}));
  cv::Mat deep_gray(2, 2, CV_16UC1, cv::Scalar(257 * 42));
  EXPECT_EQ(decode_image_file(write_mat("deep_gray.png", deep_gray)).at(1, 1)[2], 42);
}

// A JPEG of a 24x16 picture, red on the left half and blue on the right, whose EXIF says
// orientation 6: "rotate 90 degrees clockwise to display".
std::string jpeg_with_orientation(uint16_t orientation) {
  cv::Mat bgr(16, 24, CV_8UC3, cv::Scalar(255, 0, 0));
  bgr(cv::Rect(0, 0, 12, 16)).setTo(cv::Scalar(0, 0, 255));
  std::vector<uint8_t> jpeg;
  cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, 100});
  // APP1 "Exif": a little-endian TIFF header and one IFD holding the Orientation tag (0x0112,
  // type SHORT, count 1), as the EXIF 2.3 standard lays it out.
  const std::vector<uint8_t> tiff{'I', 'I', 42, 0, 8, 0, 0, 0,                      // header, IFD at 8
                                  1, 0,                                               // one entry
                                  0x12, 0x01, 3, 0, 1, 0, 0, 0,                       // tag, SHORT, 1
                                  static_cast<uint8_t>(orientation), static_cast<uint8_t>(orientation >> 8), 0, 0,
                                  0, 0, 0, 0};                                        // no next IFD
  std::vector<uint8_t> app1{'E', 'x', 'i', 'f', 0, 0};
  app1.insert(app1.end(), tiff.begin(), tiff.end());
  const size_t length = app1.size() + 2;
  std::vector<uint8_t> segment{0xFF, 0xE1, static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
  segment.insert(segment.end(), app1.begin(), app1.end());
  jpeg.insert(jpeg.begin() + 2, segment.begin(), segment.end());  // right after SOI
  return std::string(jpeg.begin(), jpeg.end());
}

TEST_F(ImageDecode, ExifOrientationIsApplied) {
  const std::string bytes = jpeg_with_orientation(6);
  const std::string file = write("rotated.jpg", bytes);
  // IMREAD_UNCHANGED ignores the tag: the stored pixels are landscape.
  EXPECT_EQ(cv::imread(file, cv::IMREAD_UNCHANGED).cols, 24);
  for (const RgbImage& im : {decode_image_file(file), decode_image_bytes(bytes, "memory.jpg")}) {
    ASSERT_EQ(im.size(), (PixelSize{24, 16}));
    // The left half (red) turned clockwise is now the top half.
    EXPECT_GT(im.at(2, 8)[0], 200);
    EXPECT_LT(im.at(2, 8)[2], 60);
    EXPECT_GT(im.at(21, 8)[2], 200);
    EXPECT_LT(im.at(21, 8)[0], 60);
  }
  const RgbImage upright = decode_image_file(write("upright.jpg", jpeg_with_orientation(1)));
  EXPECT_EQ(upright.size(), (PixelSize{16, 24}));
}

TEST_F(ImageDecode, WrittenPngDecodesToTheSamePixels) {
  const RgbImage original = test::coordinate_image(9, 13);
  write_image(path("x.png"), original);
  EXPECT_EQ(decode_image_file(path("x.png")), original);
  write_debug_image(path("debug.jpg"), original, {{1, 1, 8, 6, 0, false}, {2, 2, 5, 5, 7, false}}, {"mask"});
  EXPECT_EQ(decode_image_file(path("debug.jpg")).size(), original.size());
  EXPECT_TRUE(throws_error_with([&] { write_image(path("x.unknown"), original); }, {"x.unknown"}));
}

TEST_F(ImageDecode, FailuresNameTheFile) {
  EXPECT_TRUE(throws_error_with([&] { decode_image_file(path("absent.jpg")); }, {"absent.jpg", "not found"}));
  const std::string junk = write("junk.jpg", "this is not a JPEG at all");
  EXPECT_TRUE(throws_error_with([&] { decode_image_file(junk); }, {junk, "cannot be decoded"}));
  EXPECT_TRUE(throws_error_with([&] { decode_image_bytes("junk", "upload.png"); }, {"upload.png", "cannot be decoded"}));
  EXPECT_TRUE(throws_error_with([&] { decode_image_bytes("", "empty.png"); }, {"empty.png", "empty"}));
}

}  // namespace
}  // namespace maskdet::data
