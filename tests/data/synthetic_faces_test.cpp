// The synthetic face set: image i depends only on (seed, i); every image holds 1-3 faces inside
// it, never overlapping, and both classes are common.
#include "apps/data/synthetic_faces.h"

#include "data/data_test_util.h"

namespace maskdet::data {
namespace {

TEST(SyntheticFaces, DeterministicPerIndexWithValidBoxes) {
  const SyntheticOptions o{.width = 160, .height = 120};
  EXPECT_EQ(synthetic_image(o, 3, 7).image, synthetic_image(o, 3, 7).image);
  EXPECT_NE(synthetic_image(o, 3, 7).image, synthetic_image(o, 3, 8).image);
  EXPECT_NE(synthetic_image(o, 4, 7).image, synthetic_image(o, 3, 7).image);
  size_t per_class[2] = {0, 0};
  for (size_t i = 0; i < 60; ++i) {
    const SyntheticImage s = synthetic_image(o, 3, i);
    EXPECT_EQ(s.image.size(), (PixelSize{120, 160}));
    EXPECT_GE(s.boxes.size(), 1u);
    EXPECT_LE(s.boxes.size(), 3u);
    for (size_t a = 0; a < s.boxes.size(); ++a) {
      const auto& b = s.boxes[a];
      EXPECT_TRUE(b.x1 >= 0 && b.y1 >= 0 && b.x2 <= 160 && b.y2 <= 120 && b.x2 - b.x1 >= 0.18 * 120 - 1);
      ASSERT_TRUE(b.class_id == 0 || b.class_id == 1);
      ++per_class[b.class_id];
      for (size_t c = a + 1; c < s.boxes.size(); ++c) {
        const auto& d = s.boxes[c];
        EXPECT_FALSE(b.x1 < d.x2 && d.x1 < b.x2 && b.y1 < d.y2 && d.y1 < b.y2) << "faces overlap in image " << i;
      }
    }
  }
  EXPECT_GT(per_class[0], 20u);
  EXPECT_GT(per_class[1], 20u);
  EXPECT_EQ(synthetic_classes(), (std::vector<std::string>{"mask", "noMask"}));
}

}  // namespace
}  // namespace maskdet::data
