// torchvision checkpoints: the key translations and the loads built on Module::load_state_dict.
#include "retinanet/torchvision_weights.h"

#include <regex>
#include <sstream>

namespace maskdet {

namespace {

const std::string kBodyPrefix = "backbone.body.";

std::string joined(const std::vector<std::string>& names) {
  std::ostringstream os;
  for (size_t i = 0; i < names.size(); ++i) os << (i ? ", " : "") << names[i];
  return os.str();
}

}  // namespace

RetinaNetConfig torchvision_retinanet_resnet50_fpn_config() {
  RetinaNetConfig config;
  config.backbone = {.depth = 50, .norm = NormLayer::FrozenBatchNorm, .norm_eps = 0.0};
  config.num_classes = 91;
  config.p6_source = P6Source::P5;
  config.anchors = torchvision_anchor_config();
  return config;
}

std::map<std::string, Tensor> resnet_to_retinanet_keys(const std::map<std::string, Tensor>& resnet_state) {
  std::map<std::string, Tensor> out;
  for (const auto& [key, tensor] : resnet_state)
    if (key.rfind("fc.", 0) != 0) out[kBodyPrefix + key] = tensor;
  return out;
}

std::map<std::string, Tensor> upgrade_legacy_retinanet_keys(const std::map<std::string, Tensor>& state) {
  // Before torchvision 0.13 the head's conv tower was a flat Sequential of conv, ReLU, conv, ...
  // (convs at even indices) and each FPN block a bare conv.
  static const std::regex head_conv(R"(^(head\.(?:classification|regression)_head\.conv)\.(\d+)\.(weight|bias)$)");
  static const std::regex fpn_block(R"(^(backbone\.fpn\.(?:inner|layer)_blocks)\.(\d+)\.(weight|bias)$)");
  std::map<std::string, Tensor> out;
  for (const auto& [key, tensor] : state) {
    std::smatch m;
    std::string name = key;
    if (std::regex_match(key, m, head_conv))
      name = m[1].str() + "." + std::to_string(std::stoi(m[2].str()) / 2) + ".0." + m[3].str();
    else if (std::regex_match(key, m, fpn_block))
      name = m[1].str() + "." + m[2].str() + ".0." + m[3].str();
    MASKDET_CHECK(out.emplace(name, tensor).second, "upgrade_legacy_retinanet_keys: ", key,
                  " and another entry both map to ", name);
  }
  return out;
}

std::map<std::string, Tensor> mobilenet_v2_to_retinanet_keys(const std::map<std::string, Tensor>& state) {
  std::map<std::string, Tensor> out;
  for (const auto& [key, tensor] : state)
    if (key.rfind("features.", 0) == 0) out[kBodyPrefix + key.substr(std::string("features.").size())] = tensor;
  return out;
}

namespace {

// The body takes exactly the checkpoint's entries; the rest of the model keeps its own.
void load_backbone_exactly(RetinaNet& model, std::map<std::string, Tensor> state, const std::string& what) {
  std::vector<std::string> missing, unexpected;
  std::map<std::string, Tensor> own;
  for (const auto& [name, tensor] : model.state_dict()) own.emplace(name, tensor);
  for (const auto& [name, tensor] : own) {
    if (name.rfind(kBodyPrefix, 0) != 0)
      state.emplace(name, tensor);  // the FPN and head keep their values
    else if (!state.count(name))
      missing.push_back(name);
  }
  // A FrozenBatchNorm2d body has no num_batches_tracked; a checkpoint's are ignored on loading.
  for (const auto& [name, tensor] : state)
    if (!own.count(name) && name.find("num_batches_tracked") == std::string::npos) unexpected.push_back(name);
  MASKDET_CHECK(missing.empty() && unexpected.empty(), "loading ", what, " into the ", model.body()->name(),
                " backbone: the checkpoint lacks ", missing.size(), " of the backbone's entries [", joined(missing),
                "] and has ", unexpected.size(), " the backbone lacks [", joined(unexpected),
                "] (another architecture or depth?)");
  model.load_state_dict(state, /*strict=*/true);
}

}  // namespace

void load_torchvision_resnet_backbone(RetinaNet& model, const std::map<std::string, Tensor>& resnet_state) {
  load_backbone_exactly(model, resnet_to_retinanet_keys(resnet_state), "an ImageNet ResNet");
}

void load_torchvision_mobilenet_v2_backbone(RetinaNet& model, const std::map<std::string, Tensor>& mobilenet_state) {
  load_backbone_exactly(model, mobilenet_v2_to_retinanet_keys(mobilenet_state), "an ImageNet MobileNetV2");
}

void load_torchvision_retinanet(RetinaNet& model, const std::map<std::string, Tensor>& state) {
  model.load_state_dict(upgrade_legacy_retinanet_keys(state), /*strict=*/true);
}

}  // namespace maskdet
