// The Module system: dotted names, parameter counts, freezing by prefix, train/eval, moving to
// another dtype with handles kept, gradients cleared, printing.
#include <gtest/gtest.h>

#include <algorithm>

#include "autograd/ops.h"
#include "layers/group_norm.h"
#include "tensor/creation.h"
#include "test_models.h"

namespace maskdet::nn {
namespace {
using test::Block;
using test::TinyNet;

std::vector<std::string> names_of(const NamedTensors& named) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : named) names.push_back(name);
  return names;
}

bool contains_text(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Module, DottedParameterAndBufferNames) {
  auto net = std::make_shared<TinyNet>();
  EXPECT_EQ(names_of(net->named_parameters()),
            (std::vector<std::string>{"backbone.0.conv1.weight", "backbone.0.bn1.weight", "backbone.0.bn1.bias",
                                      "backbone.1.conv1.weight", "backbone.1.bn1.weight", "backbone.1.bn1.bias",
                                      "head.weight", "head.bias"}));
  EXPECT_EQ(names_of(net->named_buffers()),
            (std::vector<std::string>{"backbone.0.bn1.running_mean", "backbone.0.bn1.running_var",
                                      "backbone.0.bn1.num_batches_tracked", "backbone.1.bn1.running_mean",
                                      "backbone.1.bn1.running_var", "backbone.1.bn1.num_batches_tracked"}));
  EXPECT_TRUE(net->named_parameters(/*recurse=*/false).empty());
  EXPECT_EQ(net->parameters().size(), 8u);
  EXPECT_EQ(net->buffers().size(), 6u);
}

TEST(Module, ChildrenAndModulesInRegistrationOrder) {
  auto net = std::make_shared<TinyNet>();
  std::vector<std::string> children;
  for (const auto& [name, child] : net->named_children()) children.push_back(name);
  EXPECT_EQ(children, (std::vector<std::string>{"backbone", "head"}));

  std::vector<std::string> modules;
  for (const auto& [name, module] : net->named_modules()) modules.push_back(name + ":" + module->name());
  EXPECT_EQ(modules, (std::vector<std::string>{":TinyNet", "backbone:Sequential", "backbone.0:Block",
                                               "backbone.0.conv1:Conv2d", "backbone.0.bn1:BatchNorm2d",
                                               "backbone.1:Block", "backbone.1.conv1:Conv2d",
                                               "backbone.1.bn1:BatchNorm2d", "head:Linear"}));
  EXPECT_EQ(net->named_modules()[3].second.get(), net->backbone->operator[](0)->named_children()[0].second.get());
}

TEST(Module, RegistrationRejectsBadNames) {
  struct Holder : Module {
    Holder() : Module("Holder") { register_parameter("w", zeros({2})); }
  };
  auto holder = std::make_shared<Holder>();
  EXPECT_THROW(holder->register_parameter("w", zeros({2})), Error);        // taken
  EXPECT_THROW(holder->register_buffer("w", zeros({2})), Error);           // taken by a parameter
  EXPECT_THROW(holder->register_parameter("a.b", zeros({2})), Error);      // dots join names
  EXPECT_THROW(holder->register_parameter("", zeros({2})), Error);
  EXPECT_THROW(holder->register_parameter("i", zeros({2}, {DType::Int64})), Error);
  EXPECT_TRUE(holder->named_parameters()[0].second.requires_grad());
}

TEST(Module, SharedModuleParametersListedOnce) {
  struct Twice : Module {
    Twice() : Module("Twice") {
      auto layer = std::make_shared<Linear>(2, 2);
      register_module("a", layer);
      register_module("b", layer);
    }
  };
  auto twice = std::make_shared<Twice>();
  EXPECT_EQ(names_of(twice->named_parameters()), (std::vector<std::string>{"a.weight", "a.bias"}));
  EXPECT_EQ(twice->state_dict().size(), 4u);  // every name, as PyTorch's state_dict
  EXPECT_EQ(twice->parameter_count(), 6);
}

TEST(Module, ParameterCounts) {
  EXPECT_EQ(std::make_shared<Conv2d>(3, 8, 3)->parameter_count(), 224);  // 8 * 3 * 3 * 3 + 8
  EXPECT_EQ(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 8, .out_channels = 8, .kernel_size = 3,
                                                   .groups = 4, .bias = false})
                ->parameter_count(),
            8 * 2 * 3 * 3);
  EXPECT_EQ(std::make_shared<Linear>(10, 5)->parameter_count(), 55);
  EXPECT_EQ(std::make_shared<BatchNorm2d>(8)->parameter_count(), 16);  // buffers do not count
  EXPECT_EQ(std::make_shared<GroupNorm>(2, 8)->parameter_count(), 16);
  auto net = std::make_shared<TinyNet>();
  // conv 4*3*9 + bn 8 + conv 4*4*9 + bn 8 + linear 16*5 + 5
  EXPECT_EQ(net->parameter_count(), 108 + 8 + 144 + 8 + 85);
  EXPECT_EQ(net->parameter_count(/*trainable_only=*/true), net->parameter_count());
}

TEST(Module, FreezeAndUnfreezeByPrefix) {
  auto net = std::make_shared<TinyNet>();
  EXPECT_EQ(net->freeze("backbone."), 6);
  EXPECT_EQ(net->parameter_count(true), 85);
  EXPECT_FALSE(net->backbone->operator[](1)->named_parameters()[0].second.requires_grad());
  EXPECT_TRUE(net->head->weight().requires_grad());

  EXPECT_EQ(net->unfreeze("backbone.1"), 3);
  EXPECT_EQ(net->parameter_count(true), 85 + 144 + 8);
  EXPECT_EQ(net->unfreeze("backbone.0.bn1.weight"), 1);  // a full name is a prefix of itself
  EXPECT_EQ(net->parameter_count(true), 85 + 144 + 8 + 4);
  EXPECT_EQ(net->freeze(), 8);  // everything
  EXPECT_EQ(net->parameter_count(true), 0);
}

TEST(Module, FreezeUnknownPrefixThrowsNamingIt) {
  auto net = std::make_shared<TinyNet>();
  try {
    net->freeze("backbone.2");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_TRUE(contains_text(e.what(), "backbone.2")) << e.what();
    EXPECT_TRUE(contains_text(e.what(), "backbone, head")) << e.what();
  }
  // A prefix matches whole names only: "backbone.0.conv" is not "backbone.0.conv1".
  EXPECT_THROW(net->freeze("backbone.0.conv"), Error);
  EXPECT_THROW(net->unfreeze("neck"), Error);
}

TEST(Module, TrainAndEvalPropagate) {
  auto net = std::make_shared<TinyNet>();
  for (const auto& [name, module] : net->named_modules()) EXPECT_TRUE(module->is_training()) << name;
  net->eval();
  for (const auto& [name, module] : net->named_modules()) EXPECT_FALSE(module->is_training()) << name;
  net->backbone->train();
  EXPECT_FALSE(net->is_training());
  EXPECT_TRUE(net->backbone->operator[](1)->named_children()[1].second->is_training());
  EXPECT_FALSE(net->head->is_training());
}

TEST(Module, ToFloat64KeepsHandlesValid) {
  manual_seed(7);
  auto net = std::make_shared<TinyNet>();
  const Tensor weight = net->head->weight();  // a handle held outside, like a layer member
  const auto before = weight.to_vector<double>();
  Generator gen(8);
  Tensor x = randn({2, 3, 4, 4}, {}, &gen);
  net->forward(x).sum().backward();
  ASSERT_TRUE(weight.grad().defined());

  net->to(DType::Float64);
  EXPECT_EQ(weight.dtype(), DType::Float64);
  EXPECT_EQ(weight.impl(), net->head->weight().impl());
  EXPECT_EQ(weight.to_vector<double>(), before);  // float32 -> float64 is exact
  EXPECT_TRUE(weight.requires_grad());
  EXPECT_EQ(weight.grad().dtype(), DType::Float64);  // gradients move with their tensors
  for (const auto& [name, tensor] : net->state_dict()) {
    const bool counter = name.ends_with("num_batches_tracked");
    EXPECT_EQ(tensor.dtype(), counter ? DType::Int64 : DType::Float64) << name;
  }
  net->zero_grad();
  Tensor y = net->forward(x.to(DType::Float64));
  EXPECT_EQ(y.dtype(), DType::Float64);
  y.sum().backward();
  EXPECT_EQ(net->backbone->operator[](0)->named_parameters()[0].second.grad().dtype(), DType::Float64);
  EXPECT_THROW(net->to(DType::Int64), Error);
}

TEST(Module, ZeroGradDropsEveryGradient) {
  auto net = std::make_shared<TinyNet>();
  Generator gen(9);
  net->forward(randn({2, 3, 4, 4}, {}, &gen)).sum().backward();
  for (const Tensor& p : net->parameters()) EXPECT_TRUE(p.grad().defined());
  net->zero_grad();
  for (const Tensor& p : net->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Module, PrintsTreeWithParameterShapes) {
  auto net = std::make_shared<TinyNet>();
  const std::string text = net->str();
  EXPECT_EQ(text.substr(0, text.find('\n')), "TinyNet(");
  EXPECT_TRUE(contains_text(text, "  (backbone): Sequential(\n    (0): Block(\n"
                                  "      (conv1): Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), "
                                  "bias=False) [weight (4, 3, 3, 3)]\n"
                                  "      (bn1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, "
                                  "track_running_stats=True) [weight (4,), bias (4,)]\n    )\n"))
      << text;
  EXPECT_TRUE(contains_text(text, "  (head): Linear(in_features=16, out_features=5, bias=True) "
                                  "[weight (5, 16), bias (5,)]\n)"))
      << text;
  std::ostringstream os;
  os << *std::make_shared<ReLU>();
  EXPECT_EQ(os.str(), "ReLU()");
}

}  // namespace
}  // namespace maskdet::nn
