// From read annotations to a checked Dataset (dataset_assembly.h).
#include "apps/data/dataset_assembly.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "apps/data/counted.h"
#include "apps/data/text_fields.h"
#include "apps/data/utf8.h"
#include "tensor/error.h"

namespace maskdet::data {

std::vector<std::string> discover_classes(const std::vector<NamedImage>& images) {
  std::set<std::string> names;
  for (const auto& image : images)
    for (const auto& box : image.boxes)
      if (is_valid_utf8(box.class_name)) names.insert(box.class_name);  // the others are refused per box
  return {names.begin(), names.end()};
}

namespace {

// A class name as a typo would leave it: lower case, letters and digits only ("noMask",
// "nomask" and "no_mask" all become "nomask").
std::string loose_name(const std::string& name) {
  std::string key;
  for (const char c : name)
    if (std::isalnum(static_cast<unsigned char>(c))) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

// With the classes taken from the data, a name that differs from another only in case or
// punctuation is most likely a typo of it (one "nomask" among many "noMask"): warn, naming the
// rarer one's first box.
void warn_about_look_alike_classes(const std::vector<NamedImage>& images, LoadReport& report) {
  struct Seen {
    size_t boxes = 0;
    std::string first_where;
  };
  std::map<std::string, Seen> seen;
  for (const auto& image : images)
    for (const auto& box : image.boxes) {
      Seen& s = seen[box.class_name];
      if (s.boxes++ == 0) s.first_where = box.where;
    }
  std::map<std::string, std::vector<std::string>> by_loose_name;
  for (const auto& [name, s] : seen) by_loose_name[loose_name(name)].push_back(name);
  for (auto& [key, names] : by_loose_name) {
    if (names.size() < 2) continue;
    std::stable_sort(names.begin(), names.end(),
                     [&](const std::string& a, const std::string& b) { return seen[a].boxes > seen[b].boxes; });
    const std::string& common = names.front();
    for (size_t i = 1; i < names.size(); ++i)
      report.warn(seen[names[i]].first_where + ": class '" + names[i] + "' (" + counted(seen[names[i]].boxes, "box") +
                  ") differs from '" + common + "' (" + counted(seen[common].boxes, "box") +
                  ") only in case or punctuation: a typo? The classes come from the data; --classes FILE fixes the list");
  }
}

std::string box_str(float x1, float y1, float x2, float y2) {
  std::ostringstream os;
  os << '(' << x1 << ", " << y1 << ", " << x2 << ", " << y2 << ')';
  return os.str();
}

std::string class_list_str(const std::vector<std::string>& classes) {
  std::string s;
  for (const auto& c : classes) s += (s.empty() ? "" : ", ") + c;
  return s.empty() ? "none" : s;
}

BoxAnnotation checked_box(const NamedBox& named, const std::map<std::string, int>& class_ids,
                          const std::vector<std::string>& classes, PixelSize image, OutOfImagePolicy policy,
                          LoadReport& report) {
  const auto& w = named.where;
  require_utf8(named.class_name, w, "the class name");
  MASKDET_CHECK(named.x2 > named.x1, w, ": x2 (", named.x2, ") must be greater than x1 (", named.x1, ")");
  MASKDET_CHECK(named.y2 > named.y1, w, ": y2 (", named.y2, ") must be greater than y1 (", named.y1, ")");
  const auto id = class_ids.find(named.class_name);
  MASKDET_CHECK(id != class_ids.end(), w, ": unknown class '", named.class_name,
                "' (classes: ", class_list_str(classes), ")");
  BoxAnnotation box{named.x1, named.y1, named.x2, named.y2, id->second, named.difficult};
  if (image.width <= 0 || image.height <= 0) return box;

  const float width = static_cast<float>(image.width), height = static_cast<float>(image.height);
  const bool outside = box.x1 < 0 || box.y1 < 0 || box.x2 > width || box.y2 > height;
  if (!outside) return box;
  const std::string what = w + ": box " + box_str(box.x1, box.y1, box.x2, box.y2) + " extends outside the " +
                           std::to_string(image.width) + "x" + std::to_string(image.height) + " image";
  MASKDET_CHECK(policy == OutOfImagePolicy::Clip, what);
  box.x1 = std::clamp(box.x1, 0.f, width);
  box.x2 = std::clamp(box.x2, 0.f, width);
  box.y1 = std::clamp(box.y1, 0.f, height);
  box.y2 = std::clamp(box.y2, 0.f, height);
  MASKDET_CHECK(box.x2 > box.x1 && box.y2 > box.y1, what, " and lies entirely outside it");
  report.warn(what + "; clipped to " + box_str(box.x1, box.y1, box.x2, box.y2));
  return box;
}

ImageAnnotation checked_image(NamedImage& named, const std::map<std::string, int>& class_ids,
                              const std::vector<std::string>& classes, const LoadOptions& options,
                              LoadReport& report, const ImageSizeProbe& probe) {
  ImageAnnotation image{named.image_path, named.width, named.height, {}};
  if (options.check_images != ImageCheck::None) {
    std::error_code ec;
    MASKDET_CHECK(std::filesystem::is_regular_file(named.image_path, ec), named.where, ": image ", named.image_path,
                  " not found");
  }
  if (options.check_images == ImageCheck::Decodes && probe) {
    PixelSize real;
    try {
      real = probe(named.image_path);
    } catch (const Error& e) {
      MASKDET_FAIL(named.where, ": ", e.what());
    }
    // Boxes drawn on a picture of another size would be clipped or dropped silently, and
    // evaluation would count them as misses: the annotation belongs to another picture.
    MASKDET_CHECK(image.width == 0 || (image.width == real.width && image.height == real.height), named.where,
                  ": the annotation's size is ", image.width, "x", image.height, " but ", named.image_path,
                  " decodes to ", real.width, "x", real.height, " (width x height): its boxes belong to another picture");
    image.width = real.width;
    image.height = real.height;
  }
  // Warnings of an image that turns out bad are not worth reporting: it is skipped whole.
  LoadReport image_report(SIZE_MAX);
  for (const auto& box : named.boxes)
    image.boxes.push_back(checked_box(box, class_ids, classes, {image.height, image.width}, options.out_of_image,
                                      image_report));
  for (const auto& m : image_report.warning_messages()) report.warn(m);
  return image;
}

}  // namespace

Dataset assemble_dataset(std::vector<NamedImage> images, const std::vector<std::string>& classes,
                         const LoadOptions& options, LoadReport& report, const ImageSizeProbe& probe) {
  Dataset dataset;
  dataset.classes = classes.empty() ? discover_classes(images) : classes;
  if (classes.empty()) warn_about_look_alike_classes(images, report);
  std::map<std::string, int> class_ids;
  for (size_t i = 0; i < dataset.classes.size(); ++i) {
    MASKDET_CHECK(class_ids.emplace(dataset.classes[i], static_cast<int>(i)).second, "class '", dataset.classes[i],
                  "' is listed twice");
  }
  for (auto& named : images) {
    try {
      dataset.images.push_back(checked_image(named, class_ids, dataset.classes, options, report, probe));
    } catch (const Error& e) {
      if (!options.skip_bad) throw;
      report.skip(e.what());
    }
  }
  return dataset;
}

}  // namespace maskdet::data
