// The first end-to-end proof: the little CNN learns squares vs disks.
#include "apps/demo/shapes_cnn.h"
#include "apps/demo/shapes_data.h"
#include "test_util.h"

namespace maskdet {
namespace {

TEST(ShapesDemo, DataIsBalancedAndSeeded) {
  Generator a(3), b(3);
  auto x = demo::make_shape_batch(10, a), y = demo::make_shape_batch(10, b);
  EXPECT_EQ(x.images.shape(), (Shape{10, 1, 16, 16}));
  EXPECT_EQ(x.labels.sum().item(), 5.0);
  EXPECT_TRUE(test::tensors_near(x.images, y.images, 0));
}

TEST(ShapesDemo, LossFallsAndAccuracyPassesThreshold) {
  demo::ShapesTrainConfig config;
  config.steps = 200;
  auto result = demo::train_shapes_cnn(config);
  ASSERT_EQ(result.losses.size(), 200u);
  double first = 0, last = 0;
  for (int i = 0; i < 20; ++i) {
    first += result.losses[i] / 20;
    last += result.losses[180 + i] / 20;
  }
  std::cout << "mean loss, first 20 steps " << first << ", last 20 steps " << last << ", accuracy "
            << result.accuracy << "\n";
  EXPECT_LT(last, 0.5 * first);
  EXPECT_GE(result.accuracy, 0.95);
}

}  // namespace
}  // namespace maskdet
