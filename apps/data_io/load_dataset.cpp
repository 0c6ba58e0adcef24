// Picking the reader by what is at the path (load_dataset.h).
#include "apps/data_io/load_dataset.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <ostream>

#include "apps/data/counted.h"
#include "apps/data/keras_csv.h"
#include "apps/data_io/image_decode.h"
#include "apps/data_io/voc_folders.h"
#include "tensor/error.h"

namespace maskdet::data {

namespace {

namespace fs = std::filesystem;

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// The first of `names` that is a folder inside `root`, or "".
std::string subfolder(const fs::path& root, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (is_dir(root / name)) return (root / name).string();
  return {};
}

bool holds_xml(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".xml") return true;
  return false;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<NamedImage> read_voc_layout(const fs::path& root, const LoadOptions& options, LoadReport& report) {
  if (is_dir(root / "Annotations") && is_dir(root / "JPEGImages"))
    return read_voc_devkit(root.string(), options.voc_split, options.skip_bad, report);
  const std::string annotations = subfolder(root, {"annotations", "Annotations"});
  const std::string images = subfolder(root, {"images", "JPEGImages", "Images"});
  if (!annotations.empty() && !images.empty())
    return read_voc_folder(annotations, images, options.skip_bad, report);
  MASKDET_CHECK(holds_xml(root), "data set ", root.string(),
                ": found no Annotations/ + JPEGImages/ (VOC devkit), no annotations/ + images/ (VOC folders) and no "
                "*.xml files; for keras-retinanet CSV data pass the .csv file");
  return read_voc_folder(root.string(), root.string(), options.skip_bad, report);
}

}  // namespace

Dataset load_dataset(const std::string& path, const std::string& classes_file, const LoadOptions& options,
                     LoadReport* report) {
  LoadReport local_report;
  LoadReport& r = report ? *report : local_report;
  const ImageSizeProbe probe = [](const std::string& image_path) { return decode_image_file(image_path).size(); };
  std::error_code ec;
  MASKDET_CHECK(fs::exists(path, ec), "data set ", path, " not found");

  Dataset dataset;
  if (!is_dir(path)) {
    MASKDET_CHECK(lower(fs::path(path).extension().string()) == ".csv", "data set ", path,
                  ": a file must be a keras-retinanet annotations .csv; otherwise pass a VOC folder");
    dataset = read_keras_csv(path, classes_file, options, r, probe);
  } else {
    const std::vector<std::string> classes = classes_file.empty() ? std::vector<std::string>{}
                                                                  : read_classes_file(classes_file);
    dataset = assemble_dataset(read_voc_layout(path, options, r), classes, options, r, probe);
  }
  if (options.log && !r.summary().empty()) *options.log << "data set " << path << ": " << r.summary() << "\n";
  if (options.log && classes_file.empty()) {
    // Named with their counts, so a class nobody meant (a typo) is seen before training on it.
    const std::vector<size_t> boxes = boxes_per_class(dataset);
    *options.log << "data set " << path << ": classes from the data (no --classes):";
    for (size_t c = 0; c < dataset.classes.size(); ++c)
      *options.log << (c ? ", " : " ") << dataset.classes[c] << " (" << counted(boxes[c], "box") << ")";
    *options.log << "\n";
  }
  return dataset;
}

}  // namespace maskdet::data
