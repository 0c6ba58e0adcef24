#include "apps/demo/shapes_cnn.h"

#include "apps/demo/shapes_data.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/optim/sgd.h"
#include "layers/pooling.h"
#include "layers/sequential.h"
#include "tensor/creation.h"

namespace maskdet::demo {

namespace {

// images: (N, 1, 16, 16) -> logits: (N, 1)
std::shared_ptr<nn::Sequential> make_shapes_cnn() {
  auto conv_block = [](int64_t in, int64_t out) -> std::vector<std::shared_ptr<nn::UnaryModule>> {
    return {std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in_channels = in, .out_channels = out, .kernel_size = 3, .padding = 1}),
            std::make_shared<nn::BatchNorm2d>(out), std::make_shared<nn::ReLU>(),
            std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions{.kernel_size = 2})};
  };
  auto net = std::make_shared<nn::Sequential>();
  for (const auto& block : {conv_block(1, 8), conv_block(8, 16)})
    for (const auto& layer : block) net->push_back(layer);
  net->push_back(std::make_shared<nn::Flatten>());
  net->push_back(std::make_shared<nn::Linear>(16 * 4 * 4, 1));
  return net;
}

}  // namespace

ShapesTrainResult train_shapes_cnn(const ShapesTrainConfig& config,
                                   const std::function<void(int64_t, double)>& on_step) {
  manual_seed(config.seed);  // the layers draw their initial weights from the default generator
  Generator data_gen(config.seed + 1);
  auto net = make_shapes_cnn();
  optim::SGD sgd(net->parameters(), {.lr = config.lr, .momentum = config.momentum});
  ShapesTrainResult result;
  for (int64_t step = 0; step < config.steps; ++step) {
    ShapeBatch batch = make_shape_batch(config.batch_size, data_gen);
    Tensor loss = binary_cross_entropy_with_logits(net->forward(batch.images), batch.labels);
    sgd.zero_grad();
    loss.backward();
    sgd.step();
    result.losses.push_back(loss.item());
    if (on_step) on_step(step, result.losses.back());
  }
  net->eval();
  NoGradGuard no_grad;
  ShapeBatch test = make_shape_batch(config.eval_images, data_gen);
  Tensor predicted = gt(net->forward(test.images), zeros({}));
  Tensor correct = eq(predicted, gt(test.labels, full({}, 0.5)));
  result.accuracy = correct.to(DType::Float64).mean().item();
  return result;
}

}  // namespace maskdet::demo
