// `maskdet train --weights FILE`: the weights a new run starts from, recognised by their keys:
//   - a maskdet snapshot (its "model." entries);
//   - a torchvision ImageNet ResNet ("conv1.weight", "layer1.0...", "fc.*"): the backbone only,
//     the pyramid and heads keep their initialisation;
//   - a torchvision RetinaNet ("backbone.body...", "head..."), old names translated.
// For the last two kinds, entries whose shape differs from the model's are left out and named,
// as keras-retinanet's --weights does with skip_mismatch: a COCO detector's 91-class classifier
// cannot become a 2-class one, everything else transfers.
#pragma once
#include <iosfwd>
#include <string>

#include "retinanet/retinanet.h"

namespace maskdet::app {

void load_initial_weights(RetinaNet& model, const std::string& path, std::ostream& log);

}  // namespace maskdet::app
