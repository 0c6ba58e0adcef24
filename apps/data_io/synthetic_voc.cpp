// The synthetic set as VOC files (synthetic_voc.h).
#include "apps/data_io/synthetic_voc.h"

#include <filesystem>
#include <fstream>

#include "apps/data_io/image_write.h"
#include "apps/data_io/voc_xml.h"
#include "tensor/error.h"

namespace maskdet::data {

size_t write_synthetic_voc(const std::string& dir, size_t count, uint64_t seed, const SyntheticOptions& options) {
  namespace fs = std::filesystem;
  const fs::path images = fs::path(dir) / "images", annotations = fs::path(dir) / "annotations";
  std::error_code ec;
  fs::create_directories(images, ec);
  MASKDET_CHECK(!ec, "cannot create ", images.string(), ": ", ec.message());
  fs::create_directories(annotations, ec);
  MASKDET_CHECK(!ec, "cannot create ", annotations.string(), ": ", ec.message());
  size_t boxes = 0;
  for (size_t i = 0; i < count; ++i) {
    const SyntheticImage drawn = synthetic_image(options, seed, i);
    const std::string name = std::to_string(i);
    const std::string image_path = (images / (name + ".jpg")).string();
    write_image(image_path, drawn.image, 92);
    const ImageAnnotation annotation{image_path, drawn.image.width, drawn.image.height, drawn.boxes};
    const std::string xml_path = (annotations / (name + ".xml")).string();
    std::ofstream xml(xml_path);
    xml << voc_xml_string(annotation, synthetic_classes());
    MASKDET_CHECK(xml.good(), "cannot write ", xml_path);
    boxes += drawn.boxes.size();
  }
  return boxes;
}

}  // namespace maskdet::data
