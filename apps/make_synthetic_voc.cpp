// make_synthetic_voc: writes the synthetic face-mask data set (apps/data/synthetic_faces.h) as a
// VOC folder (images/ + annotations/) that --data can point at, e.g. for training on CI.
//   make_synthetic_voc --out DIR [--count 200] [--seed 1] [--size 320x240]
#include <cstdio>
#include <string>

#include "apps/cli/error_message.h"
#include "apps/cli/flags.h"
#include "apps/data_io/synthetic_voc.h"

int main(int argc, char** argv) {
  std::string out;
  uint64_t count = 200, seed = 1;
  maskdet::data::SyntheticOptions options;
  maskdet::cli::Flags flags("make_synthetic_voc", "Writes the synthetic face-mask set (classes mask, noMask) as VOC files.");
  flags.add("--out", out, "DIR", "the folder to write images/ and annotations/ into");
  flags.add("--count", count, "N", "images");
  flags.add("--seed", seed, "N", "names the set: the same seed draws the same images");
  flags.add_custom(
      "--size", "WxH", "image size",
      [&](const std::string& v) {
        char tail = 0;
        MASKDET_CHECK(std::sscanf(v.c_str(), "%dx%d%c", &options.width, &options.height, &tail) == 2 &&
                          options.width > 0 && options.height > 0,
                      "wants WxH, e.g. 320x240, got '", v, "'");
      },
      [&] { return std::to_string(options.width) + "x" + std::to_string(options.height); });
  if (const auto exit_code = flags.parse_or_exit_code(argc, argv)) return *exit_code;
  if (out.empty()) {
    std::fprintf(stderr, "make_synthetic_voc: --out DIR is required (see --help)\n");
    return 2;
  }
  try {
    const size_t boxes = maskdet::data::write_synthetic_voc(out, count, seed, options);
    std::printf("wrote %llu images (%dx%d) with %zu faces to %s (classes: mask, noMask)\n",
                static_cast<unsigned long long>(count), options.width, options.height, boxes, out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_synthetic_voc: %s\n", maskdet::cli::without_source_location(e.what()).c_str());
    return 1;
  }
  return 0;
}
