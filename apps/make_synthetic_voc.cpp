// make_synthetic_voc: writes the synthetic face-mask data set (apps/data/synthetic_faces.h) as a
// VOC folder (images/ + annotations/) that --data can point at, e.g. for training on CI.
//   make_synthetic_voc --out DIR [--count 200] [--seed 1] [--size 320x240]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "apps/data_io/synthetic_voc.h"

int main(int argc, char** argv) {
  std::string out;
  size_t count = 200;
  uint64_t seed = 1;
  maskdet::data::SyntheticOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("usage: %s --out DIR [--count N] [--seed N] [--size WxH]\n", argv[0]);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: %s needs a value\n", argv[0], flag.c_str());
      return 2;
    }
    const std::string value = argv[++i];
    if (flag == "--out") {
      out = value;
    } else if (flag == "--count") {
      count = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--seed") {
      seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--size") {
      if (std::sscanf(value.c_str(), "%dx%d", &options.width, &options.height) != 2) {
        std::fprintf(stderr, "%s: --size wants WxH, e.g. 320x240, got %s\n", argv[0], value.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "%s: unknown flag %s (see --help)\n", argv[0], flag.c_str());
      return 2;
    }
  }
  if (out.empty()) {
    std::fprintf(stderr, "%s: --out DIR is required (see --help)\n", argv[0]);
    return 2;
  }
  try {
    const size_t boxes = maskdet::data::write_synthetic_voc(out, count, seed, options);
    std::printf("wrote %zu images (%dx%d) with %zu faces to %s (classes: mask, noMask)\n", count, options.width,
                options.height, boxes, out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 1;
  }
  return 0;
}
