// Reading VOC folder layouts (voc_folders.h).
#include "apps/data_io/voc_folders.h"

#include <algorithm>
#include <filesystem>

#include "apps/data/text_fields.h"
#include "apps/data_io/voc_xml.h"
#include "tensor/error.h"

namespace maskdet::data {

namespace {

namespace fs = std::filesystem;

// The image of an annotation: its <filename> in images_dir, else the annotation's own name with
// an image extension (a renamed set), said in a warning when <filename> named another file.
std::string find_image(const fs::path& images_dir, const std::string& filename, const fs::path& xml_path,
                       LoadReport& report) {
  std::vector<fs::path> candidates;
  if (!filename.empty()) candidates.push_back(images_dir / filename);
  for (const char* ext : {".jpg", ".jpeg", ".png", ".bmp", ".JPG", ".JPEG", ".PNG", ".BMP"})
    candidates.push_back(images_dir / (xml_path.stem().string() + ext));
  std::error_code ec;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!fs::is_regular_file(candidates[i], ec)) continue;
    if (i > 0 && !filename.empty())
      report.warn(xml_path.string() + ": <filename> " + filename + " is not in " + images_dir.string() + "; using " +
                  candidates[i].filename().string() + ", the annotation's own name");
    return candidates[i].lexically_normal().string();
  }
  return candidates.front().lexically_normal().string();
}

// Reads the annotations at `xml_paths`, each naming an image in `images_dir`.
std::vector<NamedImage> read_annotations(const std::vector<fs::path>& xml_paths, const fs::path& images_dir,
                                         bool skip_bad, LoadReport& report) {
  std::vector<NamedImage> images;
  for (const auto& xml : xml_paths) {
    try {
      NamedImage image = read_voc_xml(xml.string());
      image.image_path = find_image(images_dir, image.image_path, xml, report);
      images.push_back(std::move(image));
    } catch (const Error& e) {
      if (!skip_bad) throw;
      report.skip(e.what());
    }
  }
  return images;
}

void require_directory(const fs::path& dir, const char* what) {
  std::error_code ec;
  MASKDET_CHECK(fs::is_directory(dir, ec), what, " folder ", dir.string(), " not found");
}

}  // namespace

std::vector<NamedImage> read_voc_folder(const std::string& annotations_dir, const std::string& images_dir,
                                        bool skip_bad, LoadReport& report) {
  require_directory(annotations_dir, "VOC annotations");
  require_directory(images_dir, "VOC images");
  std::vector<fs::path> xml_paths;
  for (const auto& entry : fs::directory_iterator(annotations_dir))
    if (entry.is_regular_file() && entry.path().extension() == ".xml") xml_paths.push_back(entry.path());
  std::sort(xml_paths.begin(), xml_paths.end());
  return read_annotations(xml_paths, images_dir, skip_bad, report);
}

std::vector<NamedImage> read_voc_devkit(const std::string& root, const std::string& split, bool skip_bad,
                                        LoadReport& report) {
  const fs::path annotations = fs::path(root) / "Annotations", images = fs::path(root) / "JPEGImages";
  if (split.empty()) return read_voc_folder(annotations.string(), images.string(), skip_bad, report);
  require_directory(images, "VOC images");
  const fs::path split_file = fs::path(root) / "ImageSets" / "Main" / (split + ".txt");
  std::error_code ec;
  MASKDET_CHECK(fs::is_regular_file(split_file, ec), "VOC split '", split, "': ", split_file.string(), " not found");
  std::vector<fs::path> xml_paths;
  const std::string text = read_text_file(split_file.string(), "VOC split file");
  for_each_line(text, [&](size_t line_number, std::string_view line) {
    line = trim(line);
    if (line.empty()) return;
    // Per-class split files add a 1/-1 column after the id; the id is the first word.
    const std::string id(line.substr(0, line.find_first_of(" \t")));
    const fs::path xml = annotations / (id + ".xml");
    if (fs::is_regular_file(xml, ec)) {
      xml_paths.push_back(xml);
      return;
    }
    const std::string reason = split_file.string() + ":" + std::to_string(line_number) + ": " + xml.string() +
                               " not found";
    MASKDET_CHECK(skip_bad, reason);
    report.skip(reason);
  });
  return read_annotations(xml_paths, images, skip_bad, report);
}

}  // namespace maskdet::data
