// The precision-recall and training-curve figures; see report_plots.h.
#include "apps/eval/report_plots.h"

#include <cstdio>

#include "tensor/error.h"

namespace maskdet::eval {
namespace {

LinePlot titled(std::string title, std::string x_label, std::string y_label) {
  LinePlot plot;
  plot.title = std::move(title);
  plot.x_label = std::move(x_label);
  plot.y_label = std::move(y_label);
  return plot;
}

}  // namespace

LinePlot precision_recall_plot(const EvalResult& result) {
  LinePlot plot = titled("PR curve", "recall", "precision");
  plot.x_range = AxisRange{0, 1};
  plot.y_range = AxisRange{0, 1.05};       // room above precision 1, which the frame would hide
  plot.legend = LegendCorner::BottomLeft;  // curves fall towards the bottom right
  for (const ClassEval& c : result.per_class) {
    Series s;
    char ap[16] = "n/a";
    if (c.ap50) std::snprintf(ap, sizeof ap, "%.2f", *c.ap50);
    s.label = c.name + " AP50 " + ap;
    // The interpolated curve as steps from recall 0: its area is the AP in the legend.
    const std::vector<double> envelope = precision_envelope(c.pr_curve);
    double recall = 0;
    for (size_t i = 0; i < envelope.size(); ++i) {
      s.x.insert(s.x.end(), {recall, c.pr_curve[i].recall});
      s.y.insert(s.y.end(), {envelope[i], envelope[i]});
      recall = c.pr_curve[i].recall;
    }
    plot.series.push_back(std::move(s));
  }
  return plot;
}

RgbImage training_curves_figure(const TrainingCurves& curves, int panel_width, int panel_height) {
  MASKDET_CHECK(curves.step.size() == curves.loss.size(), "training_curves_figure: ", curves.step.size(), " steps but ",
                curves.loss.size(), " losses");
  MASKDET_CHECK(
      curves.epoch.size() == curves.map50.size() && (curves.map.empty() || curves.map.size() == curves.epoch.size()),
      "training_curves_figure: ", curves.epoch.size(), " epochs, ", curves.map50.size(), " mAP@0.5 and ",
      curves.map.size(), " mAP values");
  LinePlot loss = titled("training loss", "step", "loss");
  loss.series.push_back({"loss", curves.step, curves.loss, std::nullopt, false});
  LinePlot map = titled("validation mAP", "epoch", "mAP");
  map.y_range = AxisRange{0, 1};
  map.legend = LegendCorner::BottomRight;  // mAP rises towards the top
  map.series.push_back({"mAP@0.5", curves.epoch, curves.map50, std::nullopt, true});
  if (!curves.map.empty()) map.series.push_back({"mAP@[.5:.95]", curves.epoch, curves.map, std::nullopt, true});
  return render_row({loss, map}, panel_width, panel_height);
}

}  // namespace maskdet::eval
