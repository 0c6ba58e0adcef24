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

namespace {

double caption_scale(int thickness) { return 0.45 * thickness; }

// Where a caption's filled label goes: above the box when there is room, else just inside its
// top edge.
cv::Rect caption_label(const cv::Mat& bgr, const cv::Point& box_top_left, const std::string& caption) {
  const int thickness = line_thickness(bgr);
  int baseline = 0;
  const cv::Size text = cv::getTextSize(caption, cv::FONT_HERSHEY_SIMPLEX, caption_scale(thickness), thickness, &baseline);
  const int height = text.height + baseline + 2 * thickness;
  const int top = box_top_left.y - height >= 0 ? box_top_left.y - height : box_top_left.y;
  return {box_top_left.x, top, text.width + 2 * thickness, height};
}

void draw_caption(cv::Mat& bgr, const cv::Rect& label, const cv::Scalar& color, const std::string& caption) {
  const int thickness = line_thickness(bgr);
  int baseline = 0;
  const cv::Size text = cv::getTextSize(caption, cv::FONT_HERSHEY_SIMPLEX, caption_scale(thickness), thickness, &baseline);
  cv::rectangle(bgr, label, color, cv::FILLED);
  cv::putText(bgr, caption, cv::Point(label.x + thickness, label.y + text.height + thickness), cv::FONT_HERSHEY_SIMPLEX,
              caption_scale(thickness), cv::Scalar(255, 255, 255), thickness, cv::LINE_AA);
}

cv::Point rounded(float x, float y) { return {static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y))}; }

}  // namespace

void draw_box(cv::Mat& bgr, float x1, float y1, float x2, float y2, const cv::Scalar& color, const std::string& caption) {
  cv::rectangle(bgr, rounded(x1, y1), rounded(x2, y2), color, line_thickness(bgr));
  if (!caption.empty()) draw_caption(bgr, caption_label(bgr, rounded(x1, y1), caption), color, caption);
}

std::vector<cv::Rect> place_captions(const cv::Mat& bgr, const ImageDetections& detections,
                                    const std::vector<std::string>& captions) {
  MASKDET_CHECK(captions.size() == detections.size(), "place_captions: ", captions.size(), " captions for ",
                detections.size(), " detections");
  std::vector<cv::Rect> labels;
  for (size_t i = 0; i < detections.size(); ++i) {
    cv::Rect label = caption_label(bgr, rounded(detections[i].x1, detections[i].y1), captions[i]);
    for (bool moved = true; moved;) {
      moved = false;
      for (const cv::Rect& placed : labels)
        if ((label & placed).area() > 0) {
          label.y = placed.y + placed.height;
          moved = true;
        }
    }
    labels.push_back(label);
  }
  return labels;
}

void draw_detections(cv::Mat& bgr, const ImageDetections& detections, const std::vector<std::string>& classes) {
  std::vector<std::string> captions;
  for (const DetectedBox& d : detections) {
    const std::string name = d.class_id >= 0 && static_cast<size_t>(d.class_id) < classes.size()
                                 ? classes[static_cast<size_t>(d.class_id)]
                                 : "class " + std::to_string(d.class_id);
    char caption[96];
    std::snprintf(caption, sizeof caption, "%s %.2f", name.c_str(), d.score);
    captions.emplace_back(caption);
  }
  const std::vector<cv::Rect> labels = place_captions(bgr, detections, captions);
  // Lowest score first, so the most confident box ends up on top; captions after every box.
  for (auto it = detections.rbegin(); it != detections.rend(); ++it)
    cv::rectangle(bgr, rounded(it->x1, it->y1), rounded(it->x2, it->y2), class_color(it->class_id), line_thickness(bgr));
  for (size_t i = detections.size(); i-- > 0;) draw_caption(bgr, labels[i], class_color(detections[i].class_id), captions[i]);
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
