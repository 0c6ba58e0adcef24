// libFuzzer target: any bytes given to the VOC XML reader either parse or raise maskdet::Error;
// a crash, hang, sanitizer report or other exception is a bug. The annotation written back and
// read again must keep its boxes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "apps/data_io/voc_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace maskdet::data;
  try {
    const NamedImage image = parse_voc_xml(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.xml");
    // Round trip through the writer: the boxes read must be the boxes written.
    ImageAnnotation annotation{image.image_path, image.width, image.height, {}};
    std::vector<std::string> classes;
    for (const auto& box : image.boxes) {
      classes.push_back(box.class_name);
      annotation.boxes.push_back({box.x1, box.y1, box.x2, box.y2, static_cast<int>(classes.size() - 1), box.difficult});
    }
    const NamedImage again = parse_voc_xml(voc_xml_string(annotation, classes), "again.xml");
    if (again.boxes.size() != image.boxes.size()) __builtin_trap();
  } catch (const maskdet::Error&) {
  }
  return 0;
}
