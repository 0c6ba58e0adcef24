// make_synthetic_voc: writes the synthetic face-mask data set (apps/data/synthetic_faces.h) as a
// VOC folder (images/ + annotations/) that --data can point at, e.g. for training on CI.
//   make_synthetic_voc --out DIR [--count 200] [--seed 1] [--size 320x240] [--faces 1,3]
//                      [--face-size 0.18,0.45]   (face width over the image's shorter side)
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
  flags.add_custom(
      "--faces", "MIN,MAX", "faces per image",
      [&](const std::string& v) {
        char tail = 0;
        MASKDET_CHECK(std::sscanf(v.c_str(), "%d,%d%c", &options.min_faces, &options.max_faces, &tail) == 2 &&
                          options.min_faces >= 0 && options.max_faces >= options.min_faces,
                      "wants MIN,MAX with 0 <= MIN <= MAX, e.g. 1,3, got '", v, "'");
      },
      [&] { return std::to_string(options.min_faces) + "," + std::to_string(options.max_faces); });
  flags.add_custom(
      "--face-size", "MIN,MAX", "face width over the image's shorter side (small faces: e.g. 0.05,0.15)",
      [&](const std::string& v) {
        char tail = 0;
        MASKDET_CHECK(std::sscanf(v.c_str(), "%lf,%lf%c", &options.min_face_fraction, &options.max_face_fraction,
                                  &tail) == 2 &&
                          options.min_face_fraction > 0 && options.max_face_fraction >= options.min_face_fraction &&
                          options.max_face_fraction <= 1,
                      "wants MIN,MAX fractions with 0 < MIN <= MAX <= 1, got '", v, "'");
      },
      [&] {
        char text[64];
        std::snprintf(text, sizeof text, "%g,%g", options.min_face_fraction, options.max_face_fraction);
        return std::string(text);
      });
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
