// State dicts: keys and order, a round trip into a fresh model, errors that name the key, strict
// and non-strict reporting of missing and unexpected keys, and loads that change nothing on error.
#include <gtest/gtest.h>

#include "layers/frozen_batch_norm.h"
#include "tensor/creation.h"
#include "test_models.h"
#include "test_util.h"

namespace maskdet::nn {
namespace {
using test::as_map;
using test::TinyNet;

TEST(StateDict, KeysInPyTorchOrder) {
  auto block = std::make_shared<test::Block>(3, 4);
  std::vector<std::string> keys;
  for (const auto& [key, tensor] : block->state_dict()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                                            "bn1.running_var", "bn1.num_batches_tracked"}));
  EXPECT_EQ(block->state_dict()[5].second.dtype(), DType::Int64);
  EXPECT_EQ(block->state_dict()[5].second.dim(), 0);
}

TEST(StateDict, RoundTripIntoFreshModelGivesIdenticalOutputs) {
  manual_seed(1);
  auto trained = std::make_shared<TinyNet>();
  Generator gen(2);
  const Tensor x = randn({2, 3, 4, 4}, {}, &gen);
  trained->forward(x);  // one training step moves the running statistics off their defaults
  trained->eval();
  const Tensor expected = trained->forward(x);

  manual_seed(99);
  auto fresh = std::make_shared<TinyNet>();
  fresh->eval();
  const Tensor conv_weight = fresh->backbone->operator[](0)->named_parameters()[0].second;
  EXPECT_NE(fresh->forward(x).to_vector<float>(), expected.to_vector<float>());

  const LoadResult result = fresh->load_state_dict(as_map(trained->state_dict()));
  EXPECT_TRUE(result.missing_keys.empty());
  EXPECT_TRUE(result.unexpected_keys.empty());
  EXPECT_EQ(fresh->forward(x).to_vector<float>(), expected.to_vector<float>());
  // Copied into the existing tensors, not aliased to the source.
  EXPECT_EQ(conv_weight.impl(), fresh->backbone->operator[](0)->named_parameters()[0].second.impl());
  EXPECT_NE(conv_weight.storage(), trained->backbone->operator[](0)->named_parameters()[0].second.storage());
  EXPECT_TRUE(conv_weight.requires_grad());
  EXPECT_EQ(fresh->state_dict()[5].second.item(), 1.0);  // num_batches_tracked came along
}

TEST(StateDict, ShapeMismatchNamesTheKey) {
  auto net = std::make_shared<TinyNet>();
  auto state = as_map(net->state_dict());
  state["head.weight"] = zeros({5, 17});
  const std::string message = maskdet::test::error_message([&] { net->load_state_dict(state); });
  EXPECT_NE(message.find("head.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("(5, 16)"), std::string::npos) << message;
  EXPECT_NE(message.find("(5, 17)"), std::string::npos) << message;
}

TEST(StateDict, DtypeMismatchNamesTheKeyAndExpectedDtype) {
  auto net = std::make_shared<TinyNet>();
  auto state = as_map(net->state_dict());
  state["backbone.1.bn1.running_var"] = ones({4}, {DType::Float64});
  const std::string message = maskdet::test::error_message([&] { net->load_state_dict(state, /*strict=*/false); });
  EXPECT_NE(message.find("backbone.1.bn1.running_var"), std::string::npos) << message;
  EXPECT_NE(message.find("expected float32"), std::string::npos) << message;
  EXPECT_NE(message.find("float64"), std::string::npos) << message;
}

TEST(StateDict, MissingAndUnexpectedKeys) {
  manual_seed(3);
  auto source = std::make_shared<TinyNet>();
  manual_seed(4);
  auto target = std::make_shared<TinyNet>();
  auto state = as_map(source->state_dict());
  state.erase("head.bias");
  state.erase("backbone.0.bn1.running_mean");
  state["neck.weight"] = zeros({2});

  const std::string message = maskdet::test::error_message([&] { target->load_state_dict(state); });
  EXPECT_NE(message.find("missing keys: backbone.0.bn1.running_mean, head.bias"), std::string::npos) << message;
  EXPECT_NE(message.find("unexpected keys: neck.weight"), std::string::npos) << message;
  // A failed load copies nothing.
  EXPECT_NE(target->head->weight().to_vector<float>(), source->head->weight().to_vector<float>());

  const LoadResult result = target->load_state_dict(state, /*strict=*/false);
  EXPECT_EQ(result.missing_keys, (std::vector<std::string>{"backbone.0.bn1.running_mean", "head.bias"}));
  EXPECT_EQ(result.unexpected_keys, (std::vector<std::string>{"neck.weight"}));
  EXPECT_EQ(target->head->weight().to_vector<float>(), source->head->weight().to_vector<float>());
  EXPECT_NE(target->head->bias().to_vector<float>(), source->head->bias().to_vector<float>());
}

TEST(StateDict, FailedLoadChangesNothingEvenIfSomeKeysFit) {
  auto source = std::make_shared<TinyNet>();
  auto target = std::make_shared<TinyNet>();
  const auto before = target->backbone->operator[](0)->named_parameters()[0].second.to_vector<float>();
  auto state = as_map(source->state_dict());
  state["head.bias"] = zeros({6});
  EXPECT_THROW(target->load_state_dict(state), Error);
  EXPECT_EQ(target->backbone->operator[](0)->named_parameters()[0].second.to_vector<float>(), before);
}

TEST(StateDict, FrozenBatchNormTakesABatchNormCheckpoint) {
  // torchvision's detection backbones load ImageNet BatchNorm2d weights into FrozenBatchNorm2d:
  // the same keys, plus num_batches_tracked, which is ignored.
  auto bn = std::make_shared<BatchNorm2d>(3);
  Generator gen(5);
  bn->forward(randn({4, 3, 2, 2}, {}, &gen));
  auto frozen = std::make_shared<FrozenBatchNorm2d>(3);
  const LoadResult result = frozen->load_state_dict(as_map(bn->state_dict()));
  EXPECT_TRUE(result.unexpected_keys.empty());
  EXPECT_EQ(frozen->running_mean().to_vector<float>(), bn->running_mean().to_vector<float>());
  EXPECT_EQ(frozen->parameter_count(), 0);
  EXPECT_EQ(frozen->state_dict().size(), 4u);
}

}  // namespace
}  // namespace maskdet::nn
