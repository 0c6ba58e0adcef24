// Recognising and loading a starting checkpoint (initial_weights.h).
#include "apps/maskdet/initial_weights.h"

#include <ostream>

#include "apps/maskdet/snapshot.h"
#include "retinanet/torchvision_weights.h"
#include "tensor/safetensors.h"

namespace maskdet::app {

namespace {

bool has_key_starting(const std::map<std::string, Tensor>& state, const std::string& prefix) {
  for (const auto& entry : state)
    if (entry.first.rfind(prefix, 0) == 0) return true;
  return false;
}

// Loads the entries whose name and shape the model shares; reports the rest.
void load_matching(RetinaNet& model, const std::map<std::string, Tensor>& state, const std::string& path,
                   std::ostream& log) {
  std::map<std::string, Tensor> own;
  for (auto& [name, tensor] : model.state_dict()) own[name] = tensor;
  std::map<std::string, Tensor> usable;
  std::vector<std::string> mismatched;
  for (const auto& [name, tensor] : state) {
    const auto it = own.find(name);
    if (it == own.end()) continue;
    if (it->second.shape() == tensor.shape() && it->second.dtype() == tensor.dtype()) usable[name] = tensor;
    else mismatched.push_back(name);
  }
  MASKDET_CHECK(!usable.empty(), "--weights ", path, ": no entry matches the model by name and shape");
  model.load_state_dict(usable, /*strict=*/false);
  log << "weights " << path << ": loaded " << usable.size() << " of the model's " << own.size() << " entries";
  if (!mismatched.empty()) {
    log << "; shapes differ, initialisation kept:";
    for (const auto& name : mismatched) log << " " << name;
  }
  log << "\n";
}

}  // namespace

void load_initial_weights(RetinaNet& model, const std::string& path, std::ostream& log) {
  const SafetensorsContents contents = load_safetensors_with_metadata(path);
  const auto format = contents.metadata.find("format");
  if (format != contents.metadata.end() && format->second == "maskdet-snapshot") {
    load_matching(model, load_snapshot(path).model, path, log);
  } else if (contents.tensors.count("conv1.weight") && has_key_starting(contents.tensors, "layer1.")) {
    MASKDET_CHECK(model.config().backbone.arch == BackboneArch::ResNet, "--weights ", path,
                  " holds an ImageNet ResNet, but the model's backbone is not a ResNet (--backbone)");
    load_torchvision_resnet_backbone(model, contents.tensors);
    log << "weights " << path << ": ImageNet ResNet loaded into the backbone\n";
  } else if (contents.tensors.count("features.0.0.weight") && has_key_starting(contents.tensors, "classifier.")) {
    MASKDET_CHECK(model.config().backbone.arch == BackboneArch::MobileNetV2, "--weights ", path,
                  " holds an ImageNet MobileNetV2, but the model's backbone is not one (--backbone mobilenet_v2)");
    load_torchvision_mobilenet_v2_backbone(model, contents.tensors);
    log << "weights " << path << ": ImageNet MobileNetV2 loaded into the backbone\n";
  } else if (has_key_starting(contents.tensors, "backbone.body.")) {
    load_matching(model, upgrade_legacy_retinanet_keys(contents.tensors), path, log);
  } else {
    MASKDET_FAIL("--weights ", path,
                 ": neither a maskdet snapshot, a torchvision ImageNet ResNet (conv1.weight, layer1...) or MobileNetV2 "
                 "(features.0.0.weight, classifier...), nor a torchvision RetinaNet (backbone.body...); see docs/WEIGHTS.md");
  }
}

}  // namespace maskdet::app
