// maskdet: the face-mask detector's command-line program (RetinaNet on the maskdet framework).
//   maskdet train     --data PATH [flags]          train, with a snapshot per epoch
//   maskdet evaluate  --snapshot FILE --data PATH  mAP@0.5 per class, COCO mAP, a PR plot
//   maskdet detect    --snapshot FILE --out DIR INPUT...   annotated images and videos, JSON lines
//   maskdet debug     --data PATH --out DIR        annotations and their matched anchors, drawn
//   maskdet bench     [--backbone ... --size HxW]  training and inference speed on synthetic input
//   maskdet export    --snapshot FILE --out FILE   the detector as an ONNX model
//   maskdet serve     --snapshot FILE [--port N]   an HTTP API and a page that run the detector
// `maskdet <command> --help` lists a command's flags.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "apps/maskdet/blas_kernels.h"
#include "apps/maskdet/commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>&);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"train", maskdet::app::train_command, "train the detector (--data PATH ...), one snapshot per epoch"},
    {"evaluate", maskdet::app::evaluate_command, "mAP@0.5 per class, COCO mAP, precision and recall of a snapshot"},
    {"detect", maskdet::app::detect_command, "draw a snapshot's detections on images, folders and videos"},
    {"debug", maskdet::app::debug_command, "draw a data set's boxes and the anchors that match them"},
    {"bench", maskdet::app::bench_command, "training and inference speed and memory on synthetic input"},
    {"export", maskdet::app::export_command, "write a snapshot's detector as an ONNX model (docs/DEPLOY.md)"},
    {"serve", maskdet::app::serve_command, "an HTTP API (POST /v1/detect) and a page that run a snapshot"},
};

void print_usage(std::FILE* out) {
  std::fprintf(out, "usage: maskdet <command> [flags]   (maskdet <command> --help for its flags)\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  maskdet::app::reexec_with_fastest_blas_kernels(argv);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    print_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? maskdet::app::kExitUsage : 0;
  }
  const std::string name = argv[1];
  for (const Command& command : kCommands) {
    if (name != command.name) continue;
    return maskdet::app::run_command(name, command.run, std::vector<std::string>(argv + 2, argv + argc));
  }
  std::fprintf(stderr, "maskdet: unknown command '%s'\n", name.c_str());
  print_usage(stderr);
  return maskdet::app::kExitUsage;
}
