// Image decoding with OpenCV (image_decode.h). OpenCV hands back BGR; the conversion to RGB
// writes straight into the RgbImage's buffer through a Mat header over it.
#include "apps/data_io/image_decode.h"

#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "apps/data/jpeg_structure.h"
#include "tensor/error.h"

namespace maskdet::data {

namespace {

constexpr int kReadFlags = cv::IMREAD_COLOR | cv::IMREAD_ANYDEPTH;

RgbImage to_rgb(cv::Mat decoded, const std::string& name) {
  MASKDET_CHECK(decoded.channels() == 3, "image ", name, ": decoded to ", decoded.channels(), " channels, expected 3");
  switch (decoded.depth()) {
    case CV_8U:
      break;
    case CV_16U:
      decoded.convertTo(decoded, CV_8U, 1.0 / 257.0);
      break;
    case CV_32F:  // HDR and float TIFF hold [0, 1]; brighter values saturate
      decoded.convertTo(decoded, CV_8U, 255.0);
      break;
    default:
      MASKDET_FAIL("image ", name, ": unsupported sample depth (OpenCV depth code ", decoded.depth(), ")");
  }
  RgbImage image(decoded.rows, decoded.cols);
  cv::Mat rgb(decoded.rows, decoded.cols, CV_8UC3, image.pixels.data());
  cv::cvtColor(decoded, rgb, cv::COLOR_BGR2RGB);
  MASKDET_CHECK(rgb.data == image.pixels.data(), "image ", name, ": colour conversion reallocated");
  return image;
}

// libjpeg would decode a cut-short JPEG with grey for the missing part (jpeg_structure.h).
void require_whole_jpeg(std::string_view bytes, const std::string& name) {
  MASKDET_CHECK(!looks_like_jpeg(bytes) || jpeg_is_whole(bytes), "image ", name,
                " is truncated: its JPEG data ends before the end-of-image marker (an interrupted copy or download?)");
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  MASKDET_CHECK(in, "image ", path, " cannot be opened");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  MASKDET_CHECK(!in.bad(), "image ", path, " cannot be read");
  return bytes.str();
}

}  // namespace

RgbImage decode_image_file(const std::string& path) {
  std::error_code ec;
  MASKDET_CHECK(std::filesystem::is_regular_file(path, ec), "image ", path, " not found");
  require_whole_jpeg(read_file_bytes(path), path);
  cv::Mat decoded;
  try {
    decoded = cv::imread(path, kReadFlags);
  } catch (const cv::Exception& e) {
    MASKDET_FAIL("image ", path, ": OpenCV failed to decode it: ", e.what());
  }
  MASKDET_CHECK(!decoded.empty(), "image ", path, " cannot be decoded (unreadable, truncated or not an image)");
  return to_rgb(decoded, path);
}

RgbImage decode_image_bytes(std::string_view bytes, const std::string& name) {
  MASKDET_CHECK(!bytes.empty(), "image ", name, " is empty");
  require_whole_jpeg(bytes, name);
  cv::Mat decoded;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    decoded = cv::imdecode(buffer, kReadFlags);
  } catch (const cv::Exception& e) {
    MASKDET_FAIL("image ", name, ": OpenCV failed to decode it: ", e.what());
  }
  MASKDET_CHECK(!decoded.empty(), "image ", name, " cannot be decoded (truncated or not an image)");
  return to_rgb(decoded, name);
}

}  // namespace maskdet::data
