#include "apps/demo/shapes_cnn.h"

#include <cmath>

#include "apps/demo/shapes_data.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "tensor/creation.h"
#include "tensor/kernels/elementwise.h"

namespace maskdet::demo {

namespace {

struct Params {
  Tensor conv1_w, conv1_b, bn1_w, bn1_b, bn1_mean, bn1_var;
  Tensor conv2_w, conv2_b, bn2_w, bn2_b, bn2_mean, bn2_var;
  Tensor fc_w, fc_b;

  std::vector<Tensor> trainable() const { return {conv1_w, conv1_b, bn1_w, bn1_b, conv2_w, conv2_b, bn2_w, bn2_b, fc_w, fc_b}; }
};

// Kaiming-uniform-style init: U(-b, b) with b = sqrt(6 / fan_in) for layers followed by relu.
Tensor kaiming(const Shape& shape, int64_t fan_in, Generator& gen) {
  const double bound = std::sqrt(6.0 / static_cast<double>(fan_in));
  return rand(shape, {}, &gen, -bound, bound).set_requires_grad(true);
}

Params init_params(Generator& gen) {
  Params p;
  const TensorOptions grad = TensorOptions{}.with_requires_grad(true);
  p.conv1_w = kaiming({8, 1, 3, 3}, 9, gen);
  p.conv1_b = zeros({8}, grad);
  p.bn1_w = ones({8}, grad);
  p.bn1_b = zeros({8}, grad);
  p.bn1_mean = zeros({8});
  p.bn1_var = ones({8});
  p.conv2_w = kaiming({16, 8, 3, 3}, 72, gen);
  p.conv2_b = zeros({16}, grad);
  p.bn2_w = ones({16}, grad);
  p.bn2_b = zeros({16}, grad);
  p.bn2_mean = zeros({16});
  p.bn2_var = ones({16});
  const double fc_bound = 1.0 / std::sqrt(256.0);
  p.fc_w = rand({1, 256}, {}, &gen, -fc_bound, fc_bound).set_requires_grad(true);
  p.fc_b = zeros({1}, grad);
  return p;
}

// images: (N, 1, 16, 16) -> logits: (N, 1)
Tensor forward(const Params& p, const Tensor& images, bool training) {
  const Pool2dOptions pool{2, 2, 2, 2, 0, 0, false};
  Tensor h = conv2d(images, p.conv1_w, p.conv1_b, Conv2dOptions{}.padding(1));
  h = max_pool2d(relu(batch_norm(h, p.bn1_w, p.bn1_b, p.bn1_mean, p.bn1_var, training)), pool);
  h = conv2d(h, p.conv2_w, p.conv2_b, Conv2dOptions{}.padding(1));
  h = max_pool2d(relu(batch_norm(h, p.bn2_w, p.bn2_b, p.bn2_mean, p.bn2_var, training)), pool);
  return linear(h.flatten(1), p.fc_w, p.fc_b);
}

// SGD with momentum, in place: v = momentum * v + g; p -= lr * v.
void sgd_step(const std::vector<Tensor>& params, std::vector<Tensor>& velocity, double lr, double momentum) {
  NoGradGuard no_grad;
  using kernels::BinaryOp;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    if (!p.grad().defined()) continue;
    if (!velocity[i].defined()) velocity[i] = zeros_like(p);
    Tensor& v = velocity[i];
    kernels::binary_forward(BinaryOp::Mul, v, full({}, momentum).expand(p.shape()), v);
    kernels::binary_forward(BinaryOp::Add, v, p.grad(), v);
    kernels::binary_forward(BinaryOp::Sub, p, mul(v, full({}, lr)), p);
    Tensor(p).zero_grad();  // a handle copy shares the TensorImpl
  }
}

}  // namespace

ShapesTrainResult train_shapes_cnn(const ShapesTrainConfig& config,
                                   const std::function<void(int64_t, double)>& on_step) {
  Generator gen(config.seed);
  Params params = init_params(gen);
  const std::vector<Tensor> trainable = params.trainable();
  std::vector<Tensor> velocity(trainable.size());
  ShapesTrainResult result;
  for (int64_t step = 0; step < config.steps; ++step) {
    ShapeBatch batch = make_shape_batch(config.batch_size, gen);
    Tensor loss = binary_cross_entropy_with_logits(forward(params, batch.images, true), batch.labels);
    loss.backward();
    sgd_step(trainable, velocity, config.lr, config.momentum);
    result.losses.push_back(loss.item());
    if (on_step) on_step(step, result.losses.back());
  }
  NoGradGuard no_grad;
  ShapeBatch test = make_shape_batch(config.eval_images, gen);
  Tensor predicted = gt(forward(params, test.images, false), zeros({}));
  Tensor correct = eq(predicted, gt(test.labels, full({}, 0.5)));
  result.accuracy = correct.to(DType::Float64).mean().item();
  return result;
}

}  // namespace maskdet::demo
