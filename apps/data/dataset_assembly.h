// The step every annotation reader ends with: from what a file says (class names, raw
// coordinates, where each came from) to a Dataset (class ids, checked boxes). Keeping it in
// one place gives the VOC and CSV readers the same rules and the same messages:
//   - classes: the given list, or every name seen, sorted (byte order) so ids are stable, with a
//     warning for names that differ only in case or punctuation (a typo such as "nomask");
//   - a class name must be UTF-8 (it is written into snapshots and JSON reports);
//   - a box needs x2 > x1 and y2 > y1 and a known class;
//   - with ImageCheck::Decodes, an image whose decoded size is not the size its annotation gives
//     is bad input (its boxes were drawn on another picture);
//   - a box leaving a known image size is clipped with a warning or rejected (LoadOptions);
//   - with skip_bad, an image with a bad box is left out whole (keeping it without that box
//     would teach the model that the face there is background) and counted in the report.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "apps/data/annotations.h"
#include "apps/data/load_options.h"
#include "apps/data/rgb_image.h"

namespace maskdet::data {

// A box as read, before its class name becomes an id.
struct NamedBox {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  std::string class_name;
  bool difficult = false;
  std::string where;  // "file:line" or "file:line <object>[2]": prefixes every message about it
};

struct NamedImage {
  std::string image_path;
  int width = 0, height = 0;  // 0 when unknown
  std::vector<NamedBox> boxes;
  std::string where;  // the annotation file (and line) the image came from
};

// Reports an image's real size, throwing maskdet::Error when it cannot be read. Used for
// ImageCheck::Decodes (the decoder lives in maskdet_data_io, which passes it in).
using ImageSizeProbe = std::function<PixelSize(const std::string& image_path)>;

// Checks every image (ImageCheck: existence here, decoding through `probe`) and box, and
// assigns class ids. `classes` empty: discovered from the data. Throws maskdet::Error naming
// the annotation file and line or element, unless options.skip_bad.
Dataset assemble_dataset(std::vector<NamedImage> images, const std::vector<std::string>& classes,
                         const LoadOptions& options, LoadReport& report, const ImageSizeProbe& probe = {});

// The classes named in `images`, sorted and unique.
std::vector<std::string> discover_classes(const std::vector<NamedImage>& images);

}  // namespace maskdet::data
