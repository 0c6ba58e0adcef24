// MobileNetV2 as a backbone: C3-C5 shapes (odd inputs included), torchvision's stages for
// trainable_backbone_layers, the ImageNet checkpoint's keys mapped into a RetinaNet (and both
// key lists reported when a checkpoint does not fit), and the classifier's forward.
#include "autograd/grad_mode.h"
#include "retinanet/mobilenet_v2.h"
#include "retinanet/resnet.h"
#include "retinanet/retinanet.h"
#include "retinanet/torchvision_weights.h"
#include "test_util.h"

namespace maskdet {
namespace {

constexpr BackboneConfig kFrozen{.norm = NormLayer::FrozenBatchNorm, .arch = BackboneArch::MobileNetV2};
constexpr BackboneConfig kBatchNorm{.norm = NormLayer::BatchNorm, .arch = BackboneArch::MobileNetV2};

TEST(MobileNetV2, TapsStrides8To32WithTheirChannels) {
  auto net = std::make_shared<MobileNetV2Features>(kFrozen);
  NoGradGuard no_grad;
  Generator gen(3);
  const std::vector<Tensor> c = net->forward(randn({2, 3, 160, 224}, {}, &gen));
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].shape(), (Shape{2, 32, 20, 28}));
  EXPECT_EQ(c[1].shape(), (Shape{2, 96, 10, 14}));
  EXPECT_EQ(c[2].shape(), (Shape{2, 1280, 5, 7}));
  EXPECT_EQ(net->feature_channels(), (std::vector<int64_t>{32, 96, 1280}));
  // Odd sizes round up at every stride-2 step, as in torchvision.
  const std::vector<Tensor> odd = net->forward(randn({1, 3, 97, 65}, {}, &gen));
  EXPECT_EQ(odd[0].shape(), (Shape{1, 32, 13, 9}));
  EXPECT_EQ(odd[2].shape(), (Shape{1, 1280, 4, 3}));
}

TEST(MobileNetV2, StagesAreTorchvisionsMobilenetExtractorStages) {
  auto net = std::make_shared<MobileNetV2Features>(kFrozen);
  const auto stages = net->stages();
  // torchvision: stage_indices = [0] + [blocks with stride 2: 2, 4, 7, 14] + [18].
  const std::vector<std::vector<std::string>> expected = {
      {"0", "1"}, {"2", "3"}, {"4", "5", "6"}, {"7", "8", "9", "10", "11", "12", "13"}, {"14", "15", "16", "17"}, {"18"}};
  EXPECT_EQ(stages, expected);
}

// The names of the parameters that still train.
std::set<std::string> trainable_blocks(const Backbone& backbone) {
  std::set<std::string> out;
  for (const auto& [name, p] : backbone.named_parameters())
    if (p.requires_grad()) out.insert(name.substr(0, name.find('.')));
  return out;
}

TEST(MobileNetV2, TrainableLayersFreezeTheFirstStages) {
  for (const int64_t trainable : {0, 1, 3, 6}) {
    auto net = std::make_shared<MobileNetV2Features>(kFrozen);
    freeze_backbone_stages(*net, trainable);
    const auto blocks = trainable_blocks(*net);
    // torchvision freezes features[:freeze_before], freeze_before = stage_indices[6 - trainable].
    const int first_trained = std::vector<int>{19, 18, 14, 7, 4, 2, 0}[static_cast<size_t>(trainable)];
    for (int b = 0; b <= 18; ++b)
      EXPECT_EQ(blocks.count(std::to_string(b)), b >= first_trained ? 1u : 0u)
          << "trainable " << trainable << ", block " << b;
  }
  auto net = std::make_shared<MobileNetV2Features>(kFrozen);
  EXPECT_THROW(freeze_backbone_stages(*net, 7), Error);
}

TEST(ResNetStages, TrainableLayersAsTorchvisionsResnetFpnExtractor) {
  auto net = std::make_shared<ResNet>(BackboneConfig{.depth = 18, .norm = NormLayer::BatchNorm});
  freeze_backbone_stages(*net, 3);  // torchvision: layer4, layer3, layer2 train
  EXPECT_EQ(trainable_blocks(*net), (std::set<std::string>{"layer2", "layer3", "layer4"}));
  auto all = std::make_shared<ResNet>(BackboneConfig{.depth = 18, .norm = NormLayer::BatchNorm});
  freeze_backbone_stages(*all, 5);  // with 5, conv1 and bn1 train too
  EXPECT_EQ(trainable_blocks(*all), (std::set<std::string>{"bn1", "conv1", "layer1", "layer2", "layer3", "layer4"}));
}

// What torchvision's mobilenet_v2 state dict holds, with recognisable values: maskdet's own
// BatchNorm classifier with every entry set to a value derived from its position.
std::map<std::string, Tensor> imagenet_like_checkpoint() {
  auto classifier = std::make_shared<MobileNetV2>(kBatchNorm);
  std::map<std::string, Tensor> out;
  double value = 0;
  for (const auto& [name, t] : classifier->state_dict()) {
    value += 1;
    out[name] = t.dtype() == DType::Int64 ? t.clone() : full(t.shape(), value / 1000.0);
  }
  return out;
}

RetinaNetConfig mobilenet_retinanet_config() {
  RetinaNetConfig config;
  config.backbone = kFrozen;
  config.num_classes = 2;
  config.fpn_channels = 16;
  return config;
}

TEST(MobileNetV2, ImageNetCheckpointLoadsIntoTheRetinaNetBody) {
  const auto checkpoint = imagenet_like_checkpoint();
  auto model = std::make_shared<RetinaNet>(mobilenet_retinanet_config());
  const Tensor head_before = model->head()->state_dict().front().second.clone();
  load_torchvision_mobilenet_v2_backbone(*model, checkpoint);
  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : model->state_dict()) state[name] = t;
  for (const char* key : {"0.0.weight", "1.conv.0.1.running_var", "13.conv.1.0.weight", "18.1.bias"})
    EXPECT_TRUE(test::tensors_near(state.at(std::string("backbone.body.") + key),
                                   checkpoint.at(std::string("features.") + key), 0.0))
        << key;
  EXPECT_TRUE(test::tensors_near(model->head()->state_dict().front().second, head_before, 0.0));
}

TEST(MobileNetV2, AMismatchedCheckpointNamesBothKeyListsAndChangesNothing) {
  auto model = std::make_shared<RetinaNet>(mobilenet_retinanet_config());
  const Tensor before = model->body()->state_dict().front().second.clone();
  auto checkpoint = imagenet_like_checkpoint();
  checkpoint.erase("features.17.conv.2.weight");
  checkpoint["features.19.0.weight"] = zeros({4});
  try {
    load_torchvision_mobilenet_v2_backbone(*model, checkpoint);
    ADD_FAILURE() << "a checkpoint with a missing and an extra entry loaded";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("lacks 1 of the backbone's entries [backbone.body.17.conv.2.weight]"), std::string::npos)
        << message;
    EXPECT_NE(message.find("has 1 the backbone lacks [backbone.body.19.0.weight]"), std::string::npos) << message;
  }
  EXPECT_TRUE(test::tensors_near(model->body()->state_dict().front().second, before, 0.0));
}

TEST(MobileNetV2, ClassifierGivesOneLogitPerClassAndDropoutOnlyInTraining) {
  auto net = std::make_shared<MobileNetV2>(kBatchNorm, /*num_classes=*/10);
  net->eval();
  NoGradGuard no_grad;
  Generator gen(5);
  const Tensor x = randn({2, 3, 64, 64}, {}, &gen);
  const Tensor a = net->forward(x), b = net->forward(x);
  EXPECT_EQ(a.shape(), (Shape{2, 10}));
  EXPECT_TRUE(test::tensors_near(a, b, 0.0));  // eval: no dropout, running statistics
}

}  // namespace
}  // namespace maskdet
