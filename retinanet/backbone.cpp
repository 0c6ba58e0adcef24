// Building a backbone by its architecture and freezing its first stages (backbone.h).
#include "retinanet/backbone.h"

#include "layers/batch_norm.h"
#include "layers/frozen_batch_norm.h"
#include "retinanet/mobilenet_v2.h"
#include "retinanet/resnet.h"

namespace maskdet {

std::shared_ptr<Backbone> make_backbone(const BackboneConfig& config) {
  if (config.arch == BackboneArch::MobileNetV2) return std::make_shared<MobileNetV2Features>(config);
  return std::make_shared<ResNet>(config);
}

std::shared_ptr<nn::UnaryModule> make_norm_layer(const BackboneConfig& config, int64_t channels) {
  if (config.norm == NormLayer::FrozenBatchNorm)
    return std::make_shared<nn::FrozenBatchNorm2d>(channels, config.norm_eps);
  return std::make_shared<nn::BatchNorm2d>(nn::BatchNorm2dOptions{.num_features = channels, .eps = config.norm_eps});
}

int64_t freeze_backbone_stages(Backbone& backbone, int64_t trainable_stages) {
  const auto stages = backbone.stages();
  const auto count = static_cast<int64_t>(stages.size());
  MASKDET_CHECK(trainable_stages >= 0 && trainable_stages <= count, "trainable backbone layers must be in [0, ", count,
                "] for ", backbone.name(), ", got ", trainable_stages);
  int64_t frozen = 0;
  for (int64_t s = 0; s < count - trainable_stages; ++s)
    for (const std::string& module : stages[static_cast<size_t>(s)]) {
      for (auto [name, parameter] : backbone.named_parameters())
        if (name.rfind(module + ".", 0) == 0 && parameter.requires_grad()) {
          parameter.set_requires_grad(false);
          ++frozen;
        }
    }
  return frozen;
}

}  // namespace maskdet
