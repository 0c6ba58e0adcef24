// RetinaNet's classification and box-regression subnets (Lin et al. 2017, "Focal Loss for
// Dense Object Detection", sec. 4): the same small FCN runs on every pyramid level (weights
// shared across levels, not between the two subnets): 4 x (3x3 conv + ReLU), optionally with
// GroupNorm(32) before each ReLU (as torchvision's retinanet_resnet50_fpn_v2), then a 3x3
// predictor with A * K class logits or A * 4 box deltas per position.
//
// Names follow torchvision 0.14's RetinaNetHead, so its checkpoints load directly:
//   classification_head.conv.<i>.0 (conv), .conv.<i>.1 (GroupNorm, when used), cls_logits
//   regression_head.conv.<i>.0, .conv.<i>.1, bbox_reg
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layers/conv2d.h"
#include "layers/module.h"
#include "layers/sequential.h"

namespace maskdet {

inline constexpr int64_t kPaperHeadChannels = 256;
// The std of the head's conv weights for `in_channels` inputs: 0.01 at the paper's 256.
double head_init_std(int64_t in_channels);

struct HeadConfig {
  int64_t in_channels = 256;  // the FPN width
  int64_t num_anchors = 9;    // A, anchors per position
  // K: one sigmoid output per class, no background column; a target label l in [0, K) sets
  // column l (as torchvision: its num_classes = 91 for COCO leaves column 0 unused).
  int64_t num_classes = 91;
  int64_t tower_depth = 4;  // conv + ReLU stages before each predictor, as in the paper
  bool group_norm = false;
  int64_t group_norm_groups = 32;
  // The classifier's bias makes every anchor start at this foreground probability (sec. 4.1).
  double prior_probability = 0.01;
};

// One subnet: the conv tower and the predictor. Initialised as the paper and torchvision (conv
// weights N(0, 0.01), biases 0; the classifier's bias: the prior, set by RetinaNetHead) at the
// paper's width of 256 channels; a narrower head scales the std by sqrt(256 / width)
// (head_init_std), so that each layer scales its input's spread as the paper's layers do. With
// std 0.01 at 64 channels every layer shrank it twice as much, the four-layer tower's output came
// out ~16 times smaller than the paper's, and SGD did not move the classifier off its prior in
// three epochs of the face-mask data (Adam, which rescales each step, learned the classes slowly).
class HeadSubnet : public nn::Module {
 public:
  // values_per_anchor: K for classification, 4 for regression; predictor_name: "cls_logits" or "bbox_reg".
  HeadSubnet(const std::string& type_name, const HeadConfig& config, int64_t values_per_anchor,
             const std::string& predictor_name);

  // features: per level (N, C, H_l, W_l) -> (N, sum_l H_l * W_l * A, values_per_anchor), rows in
  // level, then row-major position, then anchor order: the order of generate_anchors.
  Tensor forward(const std::vector<Tensor>& features);
  const std::shared_ptr<nn::Sequential>& tower() const { return tower_; }
  const std::shared_ptr<nn::Conv2d>& predictor() const { return predictor_; }

 private:
  int64_t num_anchors_, values_per_anchor_;
  std::shared_ptr<nn::Sequential> tower_;
  std::shared_ptr<nn::Conv2d> predictor_;
};

struct HeadOutputs {
  Tensor cls_logits;       // (N, total anchors, K)
  Tensor bbox_regression;  // (N, total anchors, 4), deltas (dx, dy, dw, dh) against the anchors
};

class RetinaNetHead : public nn::Module {
 public:
  explicit RetinaNetHead(const HeadConfig& config);
  // features: {P3, ..., P7}, each (N, in_channels, H_l, W_l)
  HeadOutputs forward(const std::vector<Tensor>& features);
  const HeadConfig& config() const { return config_; }
  const std::shared_ptr<HeadSubnet>& classification() const { return classification_; }
  const std::shared_ptr<HeadSubnet>& regression() const { return regression_; }

 private:
  HeadConfig config_;
  std::shared_ptr<HeadSubnet> classification_, regression_;
};

}  // namespace maskdet
