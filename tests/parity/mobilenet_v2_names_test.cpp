// MobileNetV2 against torchvision's, entry by entry and in order (name, shape, parameter or
// buffer): the ImageNet classifier, whose layout mobilenet_v2-b0353104.pth has, and a RetinaNet
// over its features with FrozenBatchNorm2d, as torchvision's BackboneWithFPN builds it. The
// lists are tests/parity/data/mobilenet_v2_keys.txt (tools/make_parity_fixtures.py).
#include "parity/state_entries.h"
#include "retinanet/mobilenet_v2.h"
#include "retinanet/retinanet.h"

namespace maskdet {
namespace {

TEST(MobileNetV2Names, ClassifierMatchesTorchvision) {
  const auto theirs = test::torchvision_entries("mobilenet_v2_keys.txt", "classifier");
  const auto ours = test::module_entries(
      *std::make_shared<MobileNetV2>(BackboneConfig{.norm = NormLayer::BatchNorm, .arch = BackboneArch::MobileNetV2}));
  test::expect_same_entries(ours, theirs);
  // torchvision's published num_params for MobileNet_V2_Weights.IMAGENET1K_V1.
  EXPECT_EQ(test::parameter_count(ours), 3504872);
}

TEST(MobileNetV2Names, FrozenRetinaNetMatchesTorchvisionsBackboneWithFpn) {
  const auto theirs = test::torchvision_entries("mobilenet_v2_keys.txt", "retinanet_frozen");
  RetinaNetConfig config;
  config.backbone = {.norm = NormLayer::FrozenBatchNorm, .arch = BackboneArch::MobileNetV2};
  config.num_classes = 91;
  config.p6_source = P6Source::P5;
  test::expect_same_entries(test::module_entries(*std::make_shared<RetinaNet>(config)), theirs);
}

}  // namespace
}  // namespace maskdet
