// Compressed PNG figures through OpenCV (png_file.h).
#include "apps/maskdet/png_file.h"

#include "apps/maskdet/annotate.h"

namespace maskdet::app {

void save_png(const std::string& path, const eval::RgbImage& image) {
  cv::Mat bgr(image.height(), image.width(), CV_8UC3);
  for (int y = 0; y < image.height(); ++y) {
    const uint8_t* rgb = image.row(y);
    uint8_t* out = bgr.ptr<uint8_t>(y);
    for (int x = 0; x < image.width(); ++x)
      for (int c = 0; c < 3; ++c) out[3 * x + c] = rgb[3 * x + 2 - c];
  }
  write_picture(path, bgr);
}

}  // namespace maskdet::app
