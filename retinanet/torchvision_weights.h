// Loading torchvision's checkpoints (converted to safetensors by
// tools/convert_torchvision_weights.py; see docs/WEIGHTS.md) into a maskdet RetinaNet:
//   - ImageNet classification ResNets (torchvision.models.resnet18/34/50/101): keys "conv1.weight",
//     "bn1.running_mean", "layer1.0.conv1.weight", ..., "fc.weight", "fc.bias". They become
//     "backbone.body.<key>"; the classifier "fc.*" has no place in a detector and is dropped.
//   - torchvision's ImageNet MobileNetV2 (torchvision.models.mobilenet_v2, the file
//     scripts/fetch-weights.sh converts): keys "features.<i>.*" and "classifier.1.*". They become
//     "backbone.body.<i>.*" (the layout of torchvision's BackboneWithFPN over mobilenet_v2().features);
//     the classifier is dropped.
//   - torchvision's RetinaNet state dicts (retinanet_resnet50_fpn): the keys are the model's own by
//     construction. Checkpoints saved before torchvision renamed its head and FPN layers (the COCO
//     file retinanet_resnet50_fpn_coco-eeacb38b.pth among them) use the old names, translated here
//     as torchvision's own loader does: "head.<subnet>.conv.<2i>.*" -> "head.<subnet>.conv.<i>.0.*"
//     and "backbone.fpn.<inner|layer>_blocks.<i>.*" -> "backbone.fpn.<inner|layer>_blocks.<i>.0.*".
// BatchNorm's num_batches_tracked entries load into a BatchNorm2d body and are ignored by a
// FrozenBatchNorm2d one.
#pragma once
#include <map>
#include <string>

#include "layers/module.h"
#include "retinanet/retinanet.h"

namespace maskdet {

// The configuration of torchvision's retinanet_resnet50_fpn with its COCO weights: ResNet-50
// with FrozenBatchNorm2d at eps 0 (torchvision's overwrite_eps for these weights), 91 classes,
// P6 from P5, torchvision's anchors, L1 box loss, the default post-processing.
RetinaNetConfig torchvision_retinanet_resnet50_fpn_config();

// A classification ResNet's state dict under RetinaNet's names ("backbone.body." prefix, fc.* dropped).
std::map<std::string, Tensor> resnet_to_retinanet_keys(const std::map<std::string, Tensor>& resnet_state);

// A RetinaNet state dict with torchvision's pre-0.13 head and FPN names translated (see above);
// current names pass through unchanged.
std::map<std::string, Tensor> upgrade_legacy_retinanet_keys(const std::map<std::string, Tensor>& state);

// An ImageNet MobileNetV2's state dict under RetinaNet's names ("features." becomes
// "backbone.body.", classifier.* dropped).
std::map<std::string, Tensor> mobilenet_v2_to_retinanet_keys(const std::map<std::string, Tensor>& state);

// Loads an ImageNet classifier into model.backbone.body; the FPN and head keep their values. The
// body's entries must match the checkpoint's one to one: otherwise throws, listing the keys the
// checkpoint lacks and the keys the body lacks, before anything is copied.
void load_torchvision_resnet_backbone(RetinaNet& model, const std::map<std::string, Tensor>& resnet_state);
void load_torchvision_mobilenet_v2_backbone(RetinaNet& model, const std::map<std::string, Tensor>& mobilenet_state);

// Loads a whole torchvision RetinaNet state dict, strictly.
void load_torchvision_retinanet(RetinaNet& model, const std::map<std::string, Tensor>& state);

}  // namespace maskdet
