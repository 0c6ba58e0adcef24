// A small RetinaNet with random weights that keeps every candidate, for tests of what inference
// does around the model (the flip, the canvas) rather than of what it has learnt.
#pragma once
#include <memory>

#include "apps/maskdet/train_settings.h"
#include "retinanet/retinanet.h"
#include "tensor/generator.h"

namespace maskdet::app {

inline std::unique_ptr<RetinaNet> random_retinanet(uint64_t seed, int64_t detections_per_image,
                                                   bool head_group_norm = false) {
  TrainSettings settings;
  settings.backbone = "resnet18";
  settings.weights = "none";
  settings.fpn_channels = 32;
  settings.head_group_norm = head_group_norm;
  RetinaNetConfig config = retinanet_config(settings, 2);
  config.postprocess.score_threshold = 0;  // random weights score about 0.01 everywhere
  config.postprocess.detections_per_image = detections_per_image;
  manual_seed(seed);
  auto model = std::make_unique<RetinaNet>(config);
  model->eval();
  return model;
}

}  // namespace maskdet::app
