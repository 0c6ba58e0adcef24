// Sequential: children named by index, the chained forward, and a small
// Conv-BN-ReLU-Pool-Flatten-Linear stack that trains end to end (every parameter gets a gradient).
#include <gtest/gtest.h>

#include "tensor/creation.h"
#include "test_models.h"

namespace maskdet::nn {
namespace {

std::shared_ptr<Sequential> conv_bn_relu_pool_linear() {
  return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<UnaryModule>>{
      std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 3, .out_channels = 4, .kernel_size = 3, .padding = 1}),
      std::make_shared<BatchNorm2d>(4),
      std::make_shared<ReLU>(),
      std::make_shared<MaxPool2d>(MaxPool2dOptions{.kernel_size = 2}),
      std::make_shared<Flatten>(),
      std::make_shared<Linear>(4 * 3 * 3, 2),
  });
}

TEST(Sequential, ChildrenNamedByIndex) {
  auto seq = conv_bn_relu_pool_linear();
  EXPECT_EQ(seq->size(), 6u);
  std::vector<std::string> names;
  for (const auto& [name, tensor] : seq->state_dict()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                             "1.running_var", "1.num_batches_tracked", "5.weight", "5.bias"}));
  auto extra = seq->push_back(std::make_shared<ReLU>());
  EXPECT_EQ(seq->named_children().back().first, "6");
  EXPECT_EQ((*seq)[6].get(), extra.get());
  EXPECT_THROW((*seq)[7], Error);
}

TEST(Sequential, ForwardChainsTheLayers) {
  auto seq = conv_bn_relu_pool_linear();
  Generator gen(51);
  const Tensor x = randn({2, 3, 6, 6}, {}, &gen);
  // In eval mode, so that batch norm's running statistics do not move between the two passes.
  seq->eval();
  Tensor expected = x;
  for (const auto& layer : *seq) expected = (*layer)(expected);
  EXPECT_EQ((*seq)(x).to_vector<float>(), expected.to_vector<float>());
  EXPECT_EQ((*seq)(x).shape(), (Shape{2, 2}));
}

TEST(Sequential, ConvBnReluPoolLinearTrainsEndToEnd) {
  manual_seed(52);
  auto seq = conv_bn_relu_pool_linear();
  Generator gen(53);
  const Tensor x = randn({4, 3, 6, 6}, {}, &gen);
  const Tensor loss = (*seq)(x).pow(2.0).mean();
  loss.backward();
  for (const auto& [name, p] : seq->named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_EQ(p.grad().shape(), p.shape()) << name;
    double magnitude = 0;
    for (double g : p.grad().to_vector<double>()) magnitude += std::abs(g);
    EXPECT_GT(magnitude, 0.0) << name;
  }
  for (const auto& [name, b] : seq->named_buffers()) EXPECT_FALSE(b.grad().defined()) << name;

  // Frozen parameters get none.
  seq->zero_grad();
  seq->freeze("0");
  (*seq)(x).pow(2.0).mean().backward();
  EXPECT_FALSE(seq->named_parameters()[0].second.grad().defined());
  EXPECT_TRUE(seq->named_parameters()[2].second.grad().defined());
}

}  // namespace
}  // namespace maskdet::nn
