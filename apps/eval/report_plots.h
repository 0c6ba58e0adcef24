// The two figures the project publishes: the precision-recall curves of an evaluation (one
// series per class, "mask AP50 0.91" in the legend) and the training curves (loss per step
// beside mAP per epoch) shown in the docs.
#pragma once
#include <vector>

#include "apps/eval/detection_eval.h"
#include "apps/eval/plot.h"

namespace maskdet::eval {

// Each class's interpolated precision (the best precision at that recall or beyond) against
// recall, as steps, from VOC matching at the evaluation's IoU threshold; the area under each is
// the class's VOC AP, which the legend gives.
LinePlot precision_recall_plot(const EvalResult& result);

struct TrainingCurves {
  std::vector<double> step, loss;         // one entry per logged step
  std::vector<double> epoch, map50, map;  // one per evaluated epoch; map may be left empty
};

// Two panels side by side: the loss against the step, and mAP@0.5 (and mAP@[.5:.95] when given)
// against the epoch.
RgbImage training_curves_figure(const TrainingCurves& curves, int panel_width = 640, int panel_height = 480);

}  // namespace maskdet::eval
