// Small models shared by the layer tests: a nested module tree shaped like a detector
// (backbone of blocks in a Sequential, a head), so dotted names come out as in torchvision.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/pooling.h"
#include "layers/sequential.h"

namespace maskdet::nn::test {

// conv1 -> bn1 -> relu, like a ResNet block without the shortcut.
class Block : public UnaryModule {
 public:
  Block(int64_t in, int64_t out) : UnaryModule("Block") {
    conv1 = register_module("conv1", std::make_shared<Conv2d>(
                                         Conv2dOptions{.in_channels = in, .out_channels = out, .kernel_size = 3,
                                                       .padding = 1, .bias = false}));
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(out));
  }
  Tensor forward(const Tensor& x) override { return relu(bn1->forward(conv1->forward(x))); }

  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
};

// backbone: Sequential(Block(3, 4), Block(4, 4)); pool and flatten; head: Linear(4 * 2 * 2, 5).
// Takes (N, 3, 4, 4) images.
class TinyNet : public UnaryModule {
 public:
  TinyNet() : UnaryModule("TinyNet") {
    backbone = register_module("backbone", std::make_shared<Sequential>());
    backbone->push_back(std::make_shared<Block>(3, 4));
    backbone->push_back(std::make_shared<Block>(4, 4));
    head = register_module("head", std::make_shared<Linear>(16, 5));
  }
  Tensor forward(const Tensor& x) override {
    const Tensor features = max_pool2d(backbone->forward(x), {});
    return head->forward(features.flatten(1));
  }

  std::shared_ptr<Sequential> backbone;
  std::shared_ptr<Linear> head;
};

inline std::map<std::string, Tensor> as_map(const NamedTensors& named) { return {named.begin(), named.end()}; }

}  // namespace maskdet::nn::test
