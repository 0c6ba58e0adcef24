// Drawing boxes and captions with OpenCV (annotate.h).
#include "apps/maskdet/annotate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tensor/atomic_file.h"

namespace maskdet::app {

cv::Scalar class_color(int class_id) {
  static const cv::Scalar kColors[] = {{60, 190, 40}, {40, 40, 230}, {230, 150, 30}, {200, 60, 200}, {30, 200, 230}};
  return kColors[static_cast<size_t>(std::max(class_id, 0)) % std::size(kColors)];
}

int line_thickness(const cv::Mat& image) {
  return std::max(1, static_cast<int>(std::lround(std::min(image.cols, image.rows) / 250.0)));
}

void draw_box(cv::Mat& bgr, float x1, float y1, float x2, float y2, const cv::Scalar& color, const std::string& caption) {
  const int thickness = line_thickness(bgr);
  const cv::Point top_left(static_cast<int>(std::lround(x1)), static_cast<int>(std::lround(y1)));
  const cv::Point bottom_right(static_cast<int>(std::lround(x2)), static_cast<int>(std::lround(y2)));
  cv::rectangle(bgr, top_left, bottom_right, color, thickness);
  if (caption.empty()) return;
  const double scale = 0.45 * thickness;
  int baseline = 0;
  const cv::Size text = cv::getTextSize(caption, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
  const int label_height = text.height + baseline + 2 * thickness;
  // Above the box when there is room, else just inside its top edge.
  const int label_top = top_left.y - label_height >= 0 ? top_left.y - label_height : top_left.y;
  cv::rectangle(bgr, cv::Point(top_left.x, label_top), cv::Point(top_left.x + text.width + 2 * thickness, label_top + label_height),
                color, cv::FILLED);
  cv::putText(bgr, caption, cv::Point(top_left.x + thickness, label_top + text.height + thickness),
              cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(255, 255, 255), thickness, cv::LINE_AA);
}

void draw_detections(cv::Mat& bgr, const ImageDetections& detections, const std::vector<std::string>& classes) {
  // Lowest score first, so the most confident box and caption end up on top.
  for (auto it = detections.rbegin(); it != detections.rend(); ++it) {
    const std::string name = it->class_id >= 0 && static_cast<size_t>(it->class_id) < classes.size()
                                 ? classes[static_cast<size_t>(it->class_id)]
                                 : "class " + std::to_string(it->class_id);
    char caption[96];
    std::snprintf(caption, sizeof caption, "%s %.2f", name.c_str(), it->score);
    draw_box(bgr, it->x1, it->y1, it->x2, it->y2, class_color(it->class_id), caption);
  }
}

cv::Mat to_bgr(const data::RgbImage& image) {
  const cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.pixels.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

data::RgbImage to_rgb(const cv::Mat& bgr) {
  MASKDET_CHECK(bgr.type() == CV_8UC3, "to_rgb: expected an 8-bit 3-channel image");
  data::RgbImage image(bgr.rows, bgr.cols);
  cv::Mat rgb(bgr.rows, bgr.cols, CV_8UC3, image.pixels.data());
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return image;
}

void write_picture(const std::string& path, const cv::Mat& bgr) {
  std::vector<uchar> bytes;
  bool ok = false;
  try {
    ok = cv::imencode(std::filesystem::path(path).extension().string(), bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, 92});
  } catch (const cv::Exception& e) {
    MASKDET_FAIL("cannot encode ", path, ": ", e.what());
  }
  MASKDET_CHECK(ok, "cannot encode ", path, " (unknown extension?)");
  write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace maskdet::app
