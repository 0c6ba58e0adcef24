// RetinaNet head: the subnets' layers, their initialisation and the per-level reshaping of the
// predictions into one row per anchor.
#include "retinanet/head.h"

#include <cmath>

#include "autograd/ops.h"
#include "layers/activation.h"
#include "layers/group_norm.h"
#include "layers/init.h"
#include "retinanet/padded_conv.h"

namespace maskdet {

double head_init_std(int64_t in_channels) {
  return 0.01 * std::sqrt(static_cast<double>(kPaperHeadChannels) / static_cast<double>(in_channels));
}

namespace {

std::shared_ptr<nn::Conv2d> make_head_conv(int64_t in_channels, int64_t out_channels, bool bias) {
  auto conv = padded_conv(in_channels, out_channels, 3, 1, bias);
  nn::init::normal_(conv->weight(), head_init_std(in_channels));
  if (bias) nn::init::zeros_(conv->bias());
  return conv;
}

// torchvision's Conv2dNormActivation: conv "0" (biased only without a norm, which would cancel
// the bias), norm "1" when used, then the ReLU.
std::shared_ptr<nn::Sequential> make_tower_stage(const HeadConfig& config) {
  auto stage = std::make_shared<nn::Sequential>();
  stage->push_back(make_head_conv(config.in_channels, config.in_channels, !config.group_norm));
  if (config.group_norm)
    stage->push_back(std::make_shared<nn::GroupNorm>(config.group_norm_groups, config.in_channels));
  stage->push_back(std::make_shared<nn::ReLU>());
  return stage;
}

}  // namespace

HeadSubnet::HeadSubnet(const std::string& type_name, const HeadConfig& config, int64_t values_per_anchor,
                       const std::string& predictor_name)
    : Module(type_name), num_anchors_(config.num_anchors), values_per_anchor_(values_per_anchor) {
  MASKDET_CHECK(config.in_channels > 0 && config.num_anchors > 0 && values_per_anchor > 0, type_name,
                ": in_channels (", config.in_channels, "), num_anchors (", config.num_anchors,
                ") and outputs per anchor (", values_per_anchor, ") must be positive");
  tower_ = register_module("conv", std::make_shared<nn::Sequential>());
  for (int64_t i = 0; i < config.tower_depth; ++i) tower_->push_back(make_tower_stage(config));
  predictor_ = register_module(predictor_name,
                               make_head_conv(config.in_channels, config.num_anchors * values_per_anchor, true));
}

Tensor HeadSubnet::forward(const std::vector<Tensor>& features) {
  std::vector<Tensor> per_level;
  for (const Tensor& f : features) {
    const Tensor out = predictor_->forward(tower_->forward(f));  // (N, A * V, H, W)
    const int64_t n = out.size(0), h = out.size(2), w = out.size(3);
    // Channel a * V + v is value v of anchor a; move the anchors after the position.
    per_level.push_back(
        out.view({n, num_anchors_, values_per_anchor_, h, w}).permute({0, 3, 4, 1, 2}).reshape({n, -1, values_per_anchor_}));
  }
  return cat(per_level, 1);
}

RetinaNetHead::RetinaNetHead(const HeadConfig& config) : Module("RetinaNetHead"), config_(config) {
  MASKDET_CHECK(config.num_classes > 0, "RetinaNetHead: num_classes must be positive, got ", config.num_classes);
  classification_ = register_module(
      "classification_head",
      std::make_shared<HeadSubnet>("RetinaNetClassificationHead", config, config.num_classes, "cls_logits"));
  regression_ = register_module("regression_head",
                                std::make_shared<HeadSubnet>("RetinaNetRegressionHead", config, 4, "bbox_reg"));
  nn::init::prior_probability_bias_(classification_->predictor()->bias(), config.prior_probability);
}

HeadOutputs RetinaNetHead::forward(const std::vector<Tensor>& features) {
  MASKDET_CHECK(!features.empty(), "RetinaNetHead: no feature maps");
  return {classification_->forward(features), regression_->forward(features)};
}

}  // namespace maskdet
