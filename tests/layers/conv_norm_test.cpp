// A convolution folded with its frozen norm computes what the two layers compute in turn, in
// value and in the gradients of the input and the convolution's weight and bias.
#include "autograd/gradcheck.h"
#include "layers/conv2d.h"
#include "layers/conv_norm.h"
#include "layers/frozen_batch_norm.h"
#include "layers/init.h"
#include "test_util.h"

namespace maskdet::nn {
namespace {

std::shared_ptr<FrozenBatchNorm2d> random_frozen_norm(int64_t channels, uint64_t seed, DType dtype) {
  auto norm = std::make_shared<FrozenBatchNorm2d>(channels, 1e-5);
  Generator gen(seed);
  init::uniform_(norm->weight(), 0.5, 1.5, &gen);
  init::uniform_(norm->bias(), -1, 1, &gen);
  init::uniform_(norm->running_mean(), -1, 1, &gen);
  init::uniform_(norm->running_var(), 0.2, 2, &gen);
  norm->to(dtype);
  return norm;
}

TEST(ConvThenNorm, FoldedFrozenNormEqualsTheTwoLayers) {
  for (const int64_t groups : {1, 4}) {
    auto conv = std::make_shared<Conv2d>(
        Conv2dOptions{.in_channels = 4, .out_channels = 8, .kernel_size = 3, .stride = 2, .padding = 1, .groups = groups});
    conv->to(DType::Float64);
    auto norm = random_frozen_norm(8, 7, DType::Float64);
    const Tensor x = test::randn64({2, 4, 7, 6}, 11);
    const Tensor folded = conv_then_norm(*conv, *norm, x);
    const Tensor separate = norm->forward(conv->forward(x));
    EXPECT_TRUE(test::tensors_near(folded, separate, 1e-12)) << "groups " << groups;
    // The gradients reach the input and the convolution's parameters as through the two layers.
    const auto result = autograd::gradcheck(
        [&](const std::vector<Tensor>& in) { return conv_then_norm(*conv, *norm, in[0]); }, {x});
    EXPECT_TRUE(result.ok) << result.worst;
    const Tensor w = test::randn64({2, 8, 4, 3}, 12, false);
    conv->zero_grad();  // the gradcheck's backward reached the parameters too
    (folded * w).sum().backward();
    const Tensor folded_grad = conv->weight().grad().clone(), folded_bias = conv->bias().grad().clone();
    conv->zero_grad();
    (separate * w).sum().backward();
    EXPECT_TRUE(test::tensors_near(folded_grad, conv->weight().grad(), 1e-12));
    EXPECT_TRUE(test::tensors_near(folded_bias, conv->bias().grad(), 1e-12));
  }
}

}  // namespace
}  // namespace maskdet::nn
