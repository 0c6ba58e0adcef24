// The arithmetic of one RetinaNet forward, counted from the shapes of its convolutions, for
// `maskdet bench` to print beside its timings (a time means more next to the work it stands for).
// Only convolutions are counted: they are nearly all of the work, and norms, ReLUs, the
// pooling and the upsampling add well under 1 %. One multiply-add counts as 2 FLOPs, as the
// hardware's peak figures do (fvcore and similar tools print multiply-adds instead: half this).
#pragma once
#include <cstdint>

#include "retinanet/retinanet.h"

namespace maskdet::app {

// FLOPs of the convolutions of one forward of one (3, height, width) image through `model`
// (backbone, pyramid and both head subnets at every level; no post-processing).
double forward_flops(RetinaNet& model, int64_t height, int64_t width);

}  // namespace maskdet::app
