// RetinaNet (Lin et al. 2017, "Focal Loss for Dense Object Detection"): a ResNet (He et al.
// 2016) or MobileNetV2 (Sandler et al. 2018) backbone, a feature pyramid P3-P7 (Lin et al. 2017,
// "Feature Pyramid Networks"), and the classification and box subnets shared across levels,
// trained with the focal loss.
//
// The module tree and its names are torchvision's RetinaNet, so its state dicts load directly:
//   backbone.body (ResNet, resnet.h, or MobileNetV2's features, mobilenet_v2.h),
//   backbone.fpn (FeaturePyramid, fpn.h), head (head.h).
// Unlike torchvision's model, there is no GeneralizedRCNNTransform inside: images come in
// already resized, normalised and batched (N, 3, H, W) by the data pipeline, and detections come
// out in that tensor's pixel coordinates. (The parity test feeds both implementations such
// already-transformed tensors.)
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "layers/module.h"
#include "retinanet/anchors.h"
#include "retinanet/backbone.h"
#include "retinanet/fpn.h"
#include "retinanet/head.h"
#include "retinanet/postprocess.h"
#include "retinanet/retinanet_loss.h"

namespace maskdet {

// torchvision's default anchors (its _default_anchorgen), which its COCO weights were trained
// with: AnchorConfig::retinanet()'s octave scales truncated to whole pixels, i.e. sizes
// (32, 40, 50), (64, 80, 101), (128, 161, 203), (256, 322, 406), (512, 645, 812); ratios 0.5, 1, 2.
AnchorConfig torchvision_anchor_config();
// torchvision's rounding of the same scales and ratios around other base sizes, one per level.
AnchorConfig torchvision_anchor_config(const std::vector<double>& base_sizes);

struct RetinaNetConfig {
  BackboneConfig backbone;  // ResNet-50 with FrozenBatchNorm; or MobileNetV2
  int64_t num_classes = 91;  // K sigmoid outputs; labels in [0, K) (see HeadConfig)
  int64_t fpn_channels = 256;
  P6Source p6_source = P6Source::P5;  // torchvision's choice; the paper's is C5
  bool head_group_norm = false;       // true: torchvision's retinanet_resnet50_fpn_v2 heads
  int64_t head_depth = 4;             // conv + ReLU stages of each subnet before its predictor
  double prior_probability = 0.01;
  AnchorConfig anchors = torchvision_anchor_config();
  RetinaNetLossConfig loss;         // matcher 0.5 / 0.4, box coder (1, 1, 1, 1), L1 box loss, focal 0.25 / 2
  PostprocessConfig postprocess;    // score 0.05, 1000 candidates per level, NMS 0.5, 300 detections
};

// Everything forward computes for a batch; the loss and the post-processing read it.
struct RetinaNetOutputs {
  std::vector<Tensor> features;       // P3..P7, each (N, fpn_channels, H_l, W_l)
  Tensor cls_logits;                  // (N, A, K), A = sum over levels of H_l * W_l * anchors per cell
  Tensor bbox_regression;             // (N, A, 4)
  Tensor anchors;                     // (A, 4), the same for every image of the batch; shared
                                      // between calls of one input size: read, never modify
  std::vector<int64_t> anchors_per_level;
  ImageSize batch_size{0, 0};         // H, W of the input tensor
};

class RetinaNet : public nn::Module {
 public:
  explicit RetinaNet(const RetinaNetConfig& config);

  // images: (N, 3, H, W), already normalised.
  RetinaNetOutputs forward(const Tensor& images);
  // targets: one per image, in the input tensor's coordinates.
  RetinaNetLosses compute_loss(const RetinaNetOutputs& outputs, const std::vector<DetectionTarget>& targets) const;
  // image_sizes: the region of the input each image fills (for clipping); empty: the whole input.
  std::vector<Detections> postprocess(const RetinaNetOutputs& outputs,
                                      const std::vector<ImageSize>& image_sizes = {}) const;

  const RetinaNetConfig& config() const { return config_; }
  const std::shared_ptr<Backbone>& body() const { return body_; }
  const std::shared_ptr<FeaturePyramid>& fpn() const { return fpn_; }
  const std::shared_ptr<RetinaNetHead>& head() const { return head_; }

 private:
  RetinaNetConfig config_;
  std::shared_ptr<Backbone> body_;
  std::shared_ptr<FeaturePyramid> fpn_;
  std::shared_ptr<RetinaNetHead> head_;
  // Anchors depend only on the input size, the feature sizes and the device, so each
  // combination is made and uploaded once: a training step then neither regenerates them on the
  // host nor waits for their upload behind the queued forward. Keyed by "H W h3 w3 ... device";
  // emptied when it reaches kMaxCachedAnchorSets (inputs of many sizes, e.g. detect on photos).
  static constexpr size_t kMaxCachedAnchorSets = 32;
  std::map<std::string, Tensor> anchor_cache_;
  Tensor anchors_for(int64_t height, int64_t width, const std::vector<FeatureSize>& feature_sizes, Device device);
};

}  // namespace maskdet
