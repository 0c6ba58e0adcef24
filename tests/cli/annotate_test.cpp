// Drawing detections for people to read (apps/maskdet/annotate.h): boxes in their class's colour,
// and captions that never hide one another.
#include <gtest/gtest.h>

#include "apps/maskdet/annotate.h"

namespace maskdet::app {
namespace {

cv::Vec3b bgr_of(const cv::Scalar& s) {
  return {static_cast<uchar>(s[0]), static_cast<uchar>(s[1]), static_cast<uchar>(s[2])};
}

TEST(Annotate, BoxOutlineInItsClassColour) {
  cv::Mat image(200, 200, CV_8UC3, cv::Scalar(0, 0, 0));
  draw_detections(image, {{50, 60, 150, 150, 0.9f, 1}}, {"mask", "noMask"});
  EXPECT_EQ(image.at<cv::Vec3b>(120, 150), bgr_of(class_color(1))) << "right edge of the box";
  EXPECT_EQ(image.at<cv::Vec3b>(100, 100), cv::Vec3b(0, 0, 0)) << "inside stays untouched";
  EXPECT_NE(class_color(0), class_color(1));
}

TEST(Annotate, CaptionsOfOneFaceStackInsteadOfCovering) {
  cv::Mat image(200, 200, CV_8UC3, cv::Scalar(0, 0, 0));
  const ImageDetections same_face = {{50, 60, 150, 150, 0.54f, 0}, {51, 61, 150, 150, 0.48f, 1}, {10, 180, 30, 195, 0.4f, 0}};
  const auto labels = place_captions(image, same_face, {"mask 0.54", "noMask 0.48", "mask 0.40"});
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[0].y + labels[0].height, 60) << "the best caption sits just above its box";
  EXPECT_EQ((labels[0] & labels[1]).area(), 0);
  EXPECT_EQ(labels[1].y, labels[0].y + labels[0].height) << "the other goes just below it";
  EXPECT_EQ(labels[2].y + labels[2].height, 180) << "a caption that covers nothing stays in place";

  draw_detections(image, same_face, {"mask", "noMask"});
  EXPECT_EQ(image.at<cv::Vec3b>(labels[0].y + 1, labels[0].x), bgr_of(class_color(0)));
  EXPECT_EQ(image.at<cv::Vec3b>(labels[1].y + 1, labels[1].x), bgr_of(class_color(1))) << "noMask's label is visible";
}

}  // namespace
}  // namespace maskdet::app
