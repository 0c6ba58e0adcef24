// keras-retinanet CSV reading (keras_csv.h).
#include "apps/data/keras_csv.h"

#include <filesystem>
#include <map>
#include <set>

#include "apps/data/text_fields.h"
#include "tensor/error.h"

namespace maskdet::data {

namespace {

namespace fs = std::filesystem;

std::string resolve(const std::string& base_dir, const std::string& path) {
  const fs::path p(path);
  if (p.is_absolute() || base_dir.empty()) return p.lexically_normal().string();
  return (fs::path(base_dir) / p).lexically_normal().string();
}

float coordinate(const std::string& field, const char* name, const std::string& where) {
  const auto value = parse_coordinate(field);
  MASKDET_CHECK(value.has_value(), where, ": ", name, " '", field, "' is not a coordinate (a number within ±1e9)");
  return *value;
}

}  // namespace

std::vector<NamedImage> parse_keras_csv(std::string_view text, const std::string& source,
                                        const std::string& base_dir, bool skip_bad, LoadReport& report) {
  std::vector<NamedImage> images;
  std::map<std::string, size_t> image_index;  // resolved path -> position in images
  std::set<std::string> bad_images;
  std::vector<std::string> bad_reasons;

  for_each_line(text, [&](size_t line_number, std::string_view line) {
    if (trim(line).empty()) return;
    const std::string where = source + ":" + std::to_string(line_number);
    std::string path;
    try {
      const auto fields = split_csv_line(line);
      MASKDET_CHECK(fields.has_value(), where, ": a quoted field is not closed");
      const auto& f = *fields;
      // Known first, so that with skip_bad a row of the wrong width still takes its image out.
      if (!trim(f[0]).empty()) path = resolve(base_dir, std::string(trim(f[0])));
      MASKDET_CHECK(f.size() == 6, where, ": expected 6 columns 'path,x1,y1,x2,y2,class_name' or 'path,,,,,', got ",
                    f.size());
      MASKDET_CHECK(!path.empty(), where, ": the image path is empty");
      auto [it, added] = image_index.emplace(path, images.size());
      if (added) images.push_back({path, 0, 0, {}, where});
      const bool no_object = f[1].empty() && f[2].empty() && f[3].empty() && f[4].empty() && f[5].empty();
      if (no_object) return;
      NamedBox box;
      box.where = where;
      box.x1 = coordinate(f[1], "x1", where);
      box.y1 = coordinate(f[2], "y1", where);
      box.x2 = coordinate(f[3], "x2", where);
      box.y2 = coordinate(f[4], "y2", where);
      box.class_name = std::string(trim(f[5]));
      MASKDET_CHECK(!box.class_name.empty(), where, ": the class name is empty");
      images[it->second].boxes.push_back(std::move(box));
    } catch (const Error& e) {
      if (!skip_bad) throw;
      // A row that names no image is one bad sample by itself.
      if (path.empty() || bad_images.insert(path).second) report.skip(e.what());
    }
  });

  if (bad_images.empty()) return images;
  std::vector<NamedImage> kept;
  for (auto& image : images)
    if (!bad_images.count(image.image_path)) kept.push_back(std::move(image));
  return kept;
}

std::vector<std::string> parse_classes_csv(std::string_view text, const std::string& source) {
  std::map<int64_t, std::string> by_id;
  std::set<std::string> names;
  const bool plain_list = text.find(',') == std::string_view::npos;
  for_each_line(text, [&](size_t line_number, std::string_view line) {
    if (trim(line).empty()) return;
    const std::string where = source + ":" + std::to_string(line_number);
    if (plain_list) {
      const std::string name(trim(line));
      require_utf8(name, where, "class name");
      MASKDET_CHECK(names.insert(name).second, where, ": class '", name, "' is listed twice");
      by_id.emplace(static_cast<int64_t>(by_id.size()), name);
      return;
    }
    const auto fields = split_csv_line(line);
    MASKDET_CHECK(fields.has_value(), where, ": a quoted field is not closed");
    MASKDET_CHECK(fields->size() == 2, where, ": expected 2 columns 'class_name,id', got ", fields->size());
    const std::string name((trim((*fields)[0])));
    MASKDET_CHECK(!name.empty(), where, ": the class name is empty");
    require_utf8(name, where, "class name");
    const auto id = parse_integer((*fields)[1]);
    MASKDET_CHECK(id.has_value(), where, ": class id '", (*fields)[1], "' is not an integer");
    MASKDET_CHECK(names.insert(name).second, where, ": class '", name, "' is listed twice");
    MASKDET_CHECK(*id >= 0, where, ": class id ", *id, " is negative");
    MASKDET_CHECK(by_id.emplace(*id, name).second, where, ": class id ", *id, " is used twice ('", by_id[*id],
                  "' and '", name, "')");
  });
  // An empty list would otherwise mean "take the classes from the data", silently.
  MASKDET_CHECK(!by_id.empty(), source, ": holds no class names (one per line, or `name,id` rows)");
  std::vector<std::string> classes;
  for (const auto& [id, name] : by_id) {
    MASKDET_CHECK(id == static_cast<int64_t>(classes.size()), source, ": class ids must be 0..", by_id.size() - 1,
                  " without gaps; ", classes.size(), " is missing");
    classes.push_back(name);
  }
  return classes;
}

std::vector<std::string> read_classes_file(const std::string& path) {
  return parse_classes_csv(read_text_file(path, "classes file"), path);
}

Dataset read_keras_csv(const std::string& csv_path, const std::string& classes_path, const LoadOptions& options,
                       LoadReport& report, const ImageSizeProbe& probe) {
  const std::vector<std::string> classes = classes_path.empty() ? std::vector<std::string>{}
                                                                : read_classes_file(classes_path);
  const std::string base_dir = fs::path(csv_path).parent_path().string();
  auto images = parse_keras_csv(read_text_file(csv_path, "annotations CSV"), csv_path, base_dir, options.skip_bad,
                                report);
  return assemble_dataset(std::move(images), classes, options, report, probe);
}

}  // namespace maskdet::data
