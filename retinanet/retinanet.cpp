// RetinaNet: assembling backbone, pyramid and head under torchvision's names, the forward
// with its anchors, and the hand-off to the loss and the post-processing.
#include "retinanet/retinanet.h"

#include <cmath>

namespace maskdet {

AnchorConfig torchvision_anchor_config() { return torchvision_anchor_config({32, 64, 128, 256, 512}); }

AnchorConfig torchvision_anchor_config(const std::vector<double>& base_sizes) {
  // torchvision's retinanet builders write the octave scales out as whole pixels.
  AnchorConfig config = AnchorConfig::retinanet(base_sizes);
  for (auto& sizes : config.sizes)
    for (double& size : sizes) size = std::floor(size);
  return config;
}

RetinaNet::RetinaNet(const RetinaNetConfig& config) : Module("RetinaNet"), config_(config) {
  constexpr size_t kLevels = 5;  // P3..P7
  MASKDET_CHECK(config.anchors.sizes.size() == kLevels && config.anchors.aspect_ratios.size() == kLevels,
                "RetinaNet: the anchor config must describe 5 levels (P3-P7), got ", config.anchors.sizes.size(),
                " sizes and ", config.anchors.aspect_ratios.size(), " ratio lists");
  const int64_t anchors_per_cell = config.anchors.anchors_per_cell(0);
  for (size_t level = 1; level < kLevels; ++level)
    MASKDET_CHECK(config.anchors.anchors_per_cell(level) == anchors_per_cell,
                  "RetinaNet: the head is shared across levels, so every level needs the same number of anchors "
                  "per cell; level 0 has ",
                  anchors_per_cell, ", level ", level, " has ", config.anchors.anchors_per_cell(level));
  auto backbone = register_module("backbone", std::make_shared<nn::Module>("BackboneWithFPN"));
  body_ = backbone->register_module("body", make_backbone(config.backbone));
  fpn_ = backbone->register_module(
      "fpn", std::make_shared<FeaturePyramid>(FpnConfig{.in_channels = body_->feature_channels(),
                                                        .out_channels = config.fpn_channels,
                                                        .p6_source = config.p6_source}));
  head_ = register_module("head", std::make_shared<RetinaNetHead>(HeadConfig{.in_channels = config.fpn_channels,
                                                                             .num_anchors = anchors_per_cell,
                                                                             .num_classes = config.num_classes,
                                                                             .tower_depth = config.head_depth,
                                                                             .group_norm = config.head_group_norm,
                                                                             .prior_probability =
                                                                                 config.prior_probability}));
}

RetinaNetOutputs RetinaNet::forward(const Tensor& images) {
  RetinaNetOutputs out;
  out.features = fpn_->forward(body_->forward(images));
  HeadOutputs head = head_->forward(out.features);
  out.cls_logits = head.cls_logits;
  out.bbox_regression = head.bbox_regression;
  out.batch_size = {images.size(2), images.size(3)};
  std::vector<FeatureSize> feature_sizes;
  for (const Tensor& f : out.features) {
    feature_sizes.push_back({f.size(2), f.size(3)});
    out.anchors_per_level.push_back(f.size(2) * f.size(3) * head_->config().num_anchors);
  }
  out.anchors = anchors_for(images.size(2), images.size(3), feature_sizes, images.device());
  return out;
}

Tensor RetinaNet::anchors_for(int64_t height, int64_t width, const std::vector<FeatureSize>& feature_sizes,
                              Device device) {
  std::string key;
  for (const int64_t v : {height, width}) key.append(std::to_string(v)).append(" ");
  for (const FeatureSize& f : feature_sizes)
    key.append(std::to_string(f.height)).append(" ").append(std::to_string(f.width)).append(" ");
  key.append(device.str());
  const auto found = anchor_cache_.find(key);
  if (found != anchor_cache_.end()) return found->second;
  if (anchor_cache_.size() >= kMaxCachedAnchorSets) anchor_cache_.clear();
  Tensor anchors = generate_anchors(config_.anchors, height, width, feature_sizes).to(device);
  anchor_cache_.emplace(key, anchors);
  return anchors;
}

RetinaNetLosses RetinaNet::compute_loss(const RetinaNetOutputs& outputs,
                                        const std::vector<DetectionTarget>& targets) const {
  return retinanet_loss(outputs.cls_logits, outputs.bbox_regression, outputs.anchors, targets, config_.loss);
}

std::vector<Detections> RetinaNet::postprocess(const RetinaNetOutputs& outputs,
                                               const std::vector<ImageSize>& image_sizes) const {
  const std::vector<ImageSize> sizes =
      image_sizes.empty() ? std::vector<ImageSize>(outputs.cls_logits.size(0), outputs.batch_size) : image_sizes;
  return postprocess_detections(outputs.cls_logits, outputs.bbox_regression, outputs.anchors,
                                outputs.anchors_per_level, sizes, config_.postprocess, config_.loss.box_coder);
}

}  // namespace maskdet
