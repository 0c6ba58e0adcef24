// The ResNet-50 RetinaNet's state dict against torchvision's retinanet_resnet50_fpn, entry by
// entry and in order: name, shape, parameter or buffer, and the parameter count. Two variants:
// BatchNorm2d (what torchvision builds without pretrained weights) and FrozenBatchNorm2d (the
// layout of its COCO checkpoint). The list is tests/parity/data/retinanet_resnet50_fpn_keys.txt,
// made by tools/make_parity_fixtures.py; no weights are involved.
#include "parity/state_entries.h"
#include "retinanet/retinanet.h"

namespace maskdet {
namespace {

using test::StateEntry;

std::vector<StateEntry> torchvision_entries(const std::string& variant) {
  return test::torchvision_entries("retinanet_resnet50_fpn_keys.txt", variant);
}

std::vector<StateEntry> maskdet_entries(NormLayer norm) {
  RetinaNetConfig config;
  config.backbone = {.depth = 50, .norm = norm};
  config.num_classes = 91;
  return test::module_entries(*std::make_shared<RetinaNet>(config));
}

using test::expect_same_entries;
using test::parameter_count;

TEST(RetinaNetResNet50Names, BatchNormVariantMatchesTorchvision) {
  const auto theirs = torchvision_entries("batchnorm");
  const auto ours = maskdet_entries(NormLayer::BatchNorm);
  expect_same_entries(ours, theirs);
  // torchvision's count for retinanet_resnet50_fpn(weights=None, weights_backbone=None).
  EXPECT_EQ(parameter_count(ours), 34068119);
}

TEST(RetinaNetResNet50Names, FrozenBatchNormVariantMatchesTheCocoCheckpointLayout) {
  const auto theirs = torchvision_entries("frozen");
  const auto ours = maskdet_entries(NormLayer::FrozenBatchNorm);
  expect_same_entries(ours, theirs);
  // The "num_params" torchvision publishes for RetinaNet_ResNet50_FPN_Weights.COCO_V1.
  EXPECT_EQ(parameter_count(ours), 34014999);
}

}  // namespace
}  // namespace maskdet
