// Loading torchvision checkpoints: an ImageNet ResNet into the backbone (prefix, fc dropped,
// num_batches_tracked into a frozen body, refusal of another depth with nothing changed), and
// RetinaNet state dicts with the current and the pre-0.13 head and FPN names.
#include "retinanet/resnet.h"
#include "retinanet/torchvision_weights.h"
#include "test_util.h"

namespace maskdet {
namespace {

RetinaNetConfig small_config(int depth, NormLayer norm) {
  RetinaNetConfig config;
  config.backbone = {.depth = depth, .norm = norm};
  config.num_classes = 2;
  config.fpn_channels = 16;
  return config;
}

std::map<std::string, Tensor> as_map(const nn::NamedTensors& named) {
  return {named.begin(), named.end()};
}

// What torchvision's resnet18 state dict holds: the BatchNorm ResNet's entries plus the classifier.
std::map<std::string, Tensor> imagenet_resnet18_checkpoint() {
  manual_seed(31);
  auto resnet = std::make_shared<ResNet>(BackboneConfig{.depth = 18, .norm = NormLayer::BatchNorm});
  auto state = as_map(resnet->state_dict());
  state["bn1.running_mean"] = full({64}, 0.25);
  state["fc.weight"] = zeros({1000, 512});
  state["fc.bias"] = zeros({1000});
  return state;
}

TEST(TorchvisionWeights, ResNetKeysGetTheBodyPrefixAndLoseFc) {
  const auto mapped = resnet_to_retinanet_keys(imagenet_resnet18_checkpoint());
  EXPECT_TRUE(mapped.count("backbone.body.layer1.0.conv1.weight"));
  EXPECT_TRUE(mapped.count("backbone.body.bn1.num_batches_tracked"));
  EXPECT_FALSE(mapped.count("backbone.body.fc.weight"));
  EXPECT_FALSE(mapped.count("fc.weight"));
}

TEST(TorchvisionWeights, ImageNetResNetLoadsIntoAFrozenBody) {
  const auto checkpoint = imagenet_resnet18_checkpoint();
  auto model = std::make_shared<RetinaNet>(small_config(18, NormLayer::FrozenBatchNorm));
  const auto head_before = as_map(model->state_dict()).at("head.regression_head.bbox_reg.weight").clone();
  load_torchvision_resnet_backbone(*model, checkpoint);
  const auto state = as_map(model->state_dict());
  EXPECT_TRUE(test::tensors_near(state.at("backbone.body.layer3.1.conv2.weight"),
                                 checkpoint.at("layer3.1.conv2.weight"), 0.0));
  EXPECT_TRUE(test::tensors_near(state.at("backbone.body.bn1.running_mean"), full({64}, 0.25), 0.0));
  EXPECT_TRUE(test::tensors_near(state.at("head.regression_head.bbox_reg.weight"), head_before, 0.0));
}

TEST(TorchvisionWeights, AResNetOfAnotherDepthIsRefusedWithoutChanges) {
  auto model = std::make_shared<RetinaNet>(small_config(34, NormLayer::BatchNorm));
  const Tensor before = as_map(model->state_dict()).at("backbone.body.conv1.weight").clone();
  try {
    load_torchvision_resnet_backbone(*model, imagenet_resnet18_checkpoint());
    ADD_FAILURE() << "a ResNet-18 checkpoint loaded into a ResNet-34";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("backbone.body.layer1.2.conv1.weight"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(test::tensors_near(as_map(model->state_dict()).at("backbone.body.conv1.weight"), before, 0.0));
}

TEST(TorchvisionWeights, LegacyHeadAndFpnNamesAreTranslated) {
  const Tensor t = zeros({1});
  const auto upgraded = upgrade_legacy_retinanet_keys({{"head.classification_head.conv.6.weight", t},
                                                       {"head.regression_head.conv.0.bias", t},
                                                       {"backbone.fpn.inner_blocks.1.bias", t},
                                                       {"backbone.fpn.layer_blocks.2.weight", t},
                                                       {"head.classification_head.conv.2.0.weight", t},
                                                       {"backbone.fpn.extra_blocks.p6.weight", t},
                                                       {"head.classification_head.cls_logits.weight", t}});
  std::vector<std::string> keys;
  for (const auto& [key, value] : upgraded) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "backbone.fpn.extra_blocks.p6.weight", "backbone.fpn.inner_blocks.1.0.bias",
                      "backbone.fpn.layer_blocks.2.0.weight", "head.classification_head.cls_logits.weight",
                      "head.classification_head.conv.2.0.weight", "head.classification_head.conv.3.0.weight",
                      "head.regression_head.conv.0.0.bias"}));
  // Both namings of one entry in one checkpoint: ambiguous, refused.
  EXPECT_THROW(upgrade_legacy_retinanet_keys(
                   {{"head.classification_head.conv.6.weight", t}, {"head.classification_head.conv.3.0.weight", t}}),
               Error);
}

TEST(TorchvisionWeights, RetinaNetStateDictsLoadInBothNamings) {
  manual_seed(32);
  auto source = std::make_shared<RetinaNet>(small_config(18, NormLayer::FrozenBatchNorm));
  auto current = as_map(source->state_dict());
  std::map<std::string, Tensor> legacy;
  for (const auto& [key, value] : current) {
    std::string name = key;
    const auto conv = name.find(".conv.");
    if (name.rfind("head.", 0) == 0 && conv != std::string::npos) {
      // head.<subnet>.conv.<i>.0.<leaf> -> head.<subnet>.conv.<2i>.<leaf>
      const size_t index_start = conv + 6, index_end = name.find('.', index_start);
      const int index = std::stoi(name.substr(index_start, index_end - index_start));
      name = name.substr(0, index_start) + std::to_string(2 * index) + name.substr(index_end + 2);
    }
    legacy[name] = value;
  }
  ASSERT_TRUE(legacy.count("head.classification_head.conv.6.weight"));
  for (const auto* state : {&current, &legacy}) {
    auto target = std::make_shared<RetinaNet>(small_config(18, NormLayer::FrozenBatchNorm));
    load_torchvision_retinanet(*target, *state);
    EXPECT_TRUE(test::tensors_near(as_map(target->state_dict()).at("head.classification_head.conv.3.0.weight"),
                                   current.at("head.classification_head.conv.3.0.weight"), 0.0));
  }
  EXPECT_EQ(torchvision_retinanet_resnet50_fpn_config().backbone.norm_eps, 0.0);
}

}  // namespace
}  // namespace maskdet
