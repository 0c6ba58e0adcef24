// Drawing on pictures for people to look at: boxes outlined in their class's colour with a
// "class score" caption on a filled label, as detection demos do (OpenCV's drawing functions
// on BGR images, the layout cv::imread and cv::VideoCapture hand out).
#pragma once
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "apps/data/rgb_image.h"
#include "apps/maskdet/detector.h"

namespace maskdet::app {

// A colour per class id, told apart at a glance: the first two (mask, noMask) green and red.
cv::Scalar class_color(int class_id);

// Line width for an image of this size, so boxes stay visible on large photographs.
int line_thickness(const cv::Mat& image);

// One box, its caption (empty: none) on a filled label above it, or inside when at the top edge.
void draw_box(cv::Mat& bgr, float x1, float y1, float x2, float y2, const cv::Scalar& color, const std::string& caption);

// The filled label of each caption (detections by descending score): above its box, or inside at
// the top edge, and moved below any label of a more confident detection it would cover. Class-aware
// NMS can keep one face twice (mask 0.54 and noMask 0.48 on nearly the same box); both must stay
// readable.
std::vector<cv::Rect> place_captions(const cv::Mat& bgr, const ImageDetections& detections,
                                    const std::vector<std::string>& captions);

// Every detection: its class's colour, "class 0.93" on a label placed by place_captions.
void draw_detections(cv::Mat& bgr, const ImageDetections& detections, const std::vector<std::string>& classes);

cv::Mat to_bgr(const data::RgbImage& image);
data::RgbImage to_rgb(const cv::Mat& bgr);

// `bgr` encoded by the path's extension and written atomically; throws naming the file.
void write_picture(const std::string& path, const cv::Mat& bgr);

}  // namespace maskdet::app
