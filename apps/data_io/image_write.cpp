// Image writing and debug drawing with OpenCV (image_write.h).
#include "apps/data_io/image_write.h"

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tensor/error.h"

namespace maskdet::data {

namespace {

cv::Mat to_bgr(const RgbImage& image) {
  const cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.pixels.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

void write_bgr(const std::string& path, const cv::Mat& bgr, int jpeg_quality) {
  bool ok = false;
  try {
    ok = cv::imwrite(path, bgr, {cv::IMWRITE_JPEG_QUALITY, jpeg_quality});
  } catch (const cv::Exception& e) {
    MASKDET_FAIL("cannot write image ", path, ": ", e.what());
  }
  MASKDET_CHECK(ok, "cannot write image ", path, " (unknown extension or unwritable folder?)");
}

}  // namespace

void write_image(const std::string& path, const RgbImage& image, int jpeg_quality) {
  MASKDET_CHECK(!image.empty(), "cannot write image ", path, ": the image is empty");
  write_bgr(path, to_bgr(image), jpeg_quality);
}

void write_debug_image(const std::string& path, const RgbImage& image, const std::vector<BoxAnnotation>& boxes,
                       const std::vector<std::string>& classes) {
  MASKDET_CHECK(!image.empty(), "cannot write image ", path, ": the image is empty");
  cv::Mat bgr = to_bgr(image);
  static const cv::Scalar kColors[] = {{80, 200, 60}, {40, 40, 230}, {230, 160, 30}, {200, 60, 200}};
  const int thickness = std::max(1, static_cast<int>(std::lround(std::min(image.width, image.height) / 300.0)));
  for (const auto& b : boxes) {
    const cv::Scalar color = kColors[static_cast<size_t>(std::max(b.class_id, 0)) % 4];
    const cv::Point top_left(static_cast<int>(std::lround(b.x1)), static_cast<int>(std::lround(b.y1)));
    cv::rectangle(bgr, top_left, {static_cast<int>(std::lround(b.x2)), static_cast<int>(std::lround(b.y2))}, color,
                  thickness);
    const std::string label = b.class_id >= 0 && static_cast<size_t>(b.class_id) < classes.size()
                                  ? classes[b.class_id]
                                  : "class " + std::to_string(b.class_id);
    cv::putText(bgr, label, top_left + cv::Point(2, 12 * thickness), cv::FONT_HERSHEY_SIMPLEX, 0.4 * thickness, color,
                thickness);
  }
  write_bgr(path, bgr, 95);
}

}  // namespace maskdet::data
