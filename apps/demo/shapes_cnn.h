// The first end-to-end proof of the framework: a little CNN
//   conv3x3(1->8) -> batch norm -> relu -> max-pool 2
//   conv3x3(8->16) -> batch norm -> relu -> max-pool 2 -> linear(16*4*4 -> 1)
// trained with SGD + momentum and binary cross-entropy on generated shapes (shapes_data.h):
// the framework's layers (nn::Sequential of Conv2d, BatchNorm2d, ReLU, MaxPool2d, Linear), its
// autograd and its optimiser, end to end.
#pragma once
#include <functional>
#include <vector>

#include "tensor/tensor.h"

namespace maskdet::demo {

struct ShapesTrainConfig {
  int64_t steps = 300;
  int64_t batch_size = 32;
  double lr = 0.05;
  double momentum = 0.9;
  uint64_t seed = 1;
  int64_t eval_images = 512;
};

struct ShapesTrainResult {
  std::vector<double> losses;  // one per step
  double accuracy = 0;         // on freshly drawn images, eval mode
};

// Trains from scratch; `on_step(step, loss)` is called after every step (may be empty).
ShapesTrainResult train_shapes_cnn(const ShapesTrainConfig& config,
                                   const std::function<void(int64_t, double)>& on_step = {});

}  // namespace maskdet::demo
