// VOC XML reading and writing with tinyxml2 (voc_xml.h). tinyxml2 records each element's line,
// which is what makes "annotations/12.xml:31: <object>[2]/<bndbox> has no <ymax>" possible.
#include "apps/data_io/voc_xml.h"

#include <tinyxml2.h>

#include <filesystem>
#include <sstream>

#include "apps/data/text_fields.h"
#include "tensor/error.h"

namespace maskdet::data {

namespace {

using tinyxml2::XMLElement;

// Where an element is: "<source>:<line>: <path>".
struct Place {
  const std::string& source;
  std::string path;  // e.g. "<object>[2]/<bndbox>"
  std::string at(const XMLElement* e) const { return source + ":" + std::to_string(e->GetLineNum()) + ": " + path; }
};

const XMLElement* required_child(const XMLElement* parent, const char* name, const Place& place) {
  const XMLElement* child = parent->FirstChildElement(name);
  MASKDET_CHECK(child != nullptr, place.at(parent), " has no <", name, ">");
  return child;
}

std::string text_of(const XMLElement* e) {
  const char* t = e->GetText();
  return t ? std::string(trim(t)) : std::string();
}

float coordinate_child(const XMLElement* parent, const char* name, const Place& place) {
  const XMLElement* child = required_child(parent, name, place);
  const std::string text = text_of(child);
  const auto value = parse_coordinate(text);
  MASKDET_CHECK(value.has_value(), Place{place.source, place.path + "/<" + name + ">"}.at(child), " '", text,
                "' is not a coordinate (a number within ±1e9)");
  return *value;
}

int size_child(const XMLElement* size, const char* name, const Place& place) {
  const XMLElement* child = size->FirstChildElement(name);
  if (!child) return 0;
  const std::string text = text_of(child);
  const auto value = parse_number(text);
  MASKDET_CHECK(value.has_value() && *value >= 0 && *value < 1e6 && *value == static_cast<int>(*value),
                Place{place.source, "<size>/<" + std::string(name) + ">"}.at(child), " '", text,
                "' is not a whole number of pixels");
  return static_cast<int>(*value);
}

NamedBox parse_object(const XMLElement* object, int number, const std::string& source) {
  const Place place{source, "<object>[" + std::to_string(number) + "]"};
  NamedBox box;
  box.where = place.at(object);
  box.class_name = text_of(required_child(object, "name", place));
  const Place name_place{source, place.path + "/<name>"};
  MASKDET_CHECK(!box.class_name.empty(), name_place.at(object->FirstChildElement("name")), " is empty");
  require_utf8(box.class_name, name_place.at(object->FirstChildElement("name")), "the class name");
  if (const XMLElement* difficult = object->FirstChildElement("difficult")) {
    const auto flag = parse_integer(text_of(difficult));
    MASKDET_CHECK(flag.has_value(), Place{source, place.path + "/<difficult>"}.at(difficult), " '", text_of(difficult),
                  "' is not an integer");
    box.difficult = *flag != 0;
  }
  const XMLElement* bndbox = required_child(object, "bndbox", place);
  const Place box_place{source, place.path + "/<bndbox>"};
  box.x1 = coordinate_child(bndbox, "xmin", box_place);
  box.y1 = coordinate_child(bndbox, "ymin", box_place);
  box.x2 = coordinate_child(bndbox, "xmax", box_place);
  box.y2 = coordinate_child(bndbox, "ymax", box_place);
  return box;
}

}  // namespace

NamedImage parse_voc_xml(std::string_view text, const std::string& source) {
  MASKDET_CHECK(!trim(text).empty(), source, ": the file is empty");
  tinyxml2::XMLDocument doc;
  if (doc.Parse(text.data(), text.size()) != tinyxml2::XML_SUCCESS)
    MASKDET_FAIL(source, ":", doc.ErrorLineNum(), ": malformed XML: ", doc.ErrorStr());
  const XMLElement* root = doc.RootElement();
  MASKDET_CHECK(root != nullptr, source, ": no XML element");
  MASKDET_CHECK(std::string_view(root->Name()) == "annotation", source, ":", root->GetLineNum(), ": the root element is <",
                root->Name(), ">, expected <annotation>");
  NamedImage image;
  image.where = source;
  if (const XMLElement* filename = root->FirstChildElement("filename")) image.image_path = text_of(filename);
  if (const XMLElement* size = root->FirstChildElement("size")) {
    const Place place{source, "<size>"};
    image.width = size_child(size, "width", place);
    image.height = size_child(size, "height", place);
  }
  int number = 0;
  for (const XMLElement* object = root->FirstChildElement("object"); object;
       object = object->NextSiblingElement("object"))
    image.boxes.push_back(parse_object(object, ++number, source));
  return image;
}

NamedImage read_voc_xml(const std::string& path) { return parse_voc_xml(read_text_file(path, "VOC annotation"), path); }

std::string voc_xml_string(const ImageAnnotation& image, const std::vector<std::string>& classes) {
  tinyxml2::XMLPrinter out;
  out.OpenElement("annotation");
  const auto leaf = [&](const char* name, const std::string& value) {
    out.OpenElement(name);
    out.PushText(value.c_str());
    out.CloseElement();
  };
  const auto number = [](float v) {
    std::ostringstream os;
    os << v;
    return os.str();
  };
  leaf("filename", std::filesystem::path(image.image_path).filename().string());
  out.OpenElement("size");
  leaf("width", std::to_string(image.width));
  leaf("height", std::to_string(image.height));
  leaf("depth", "3");
  out.CloseElement();
  for (const auto& box : image.boxes) {
    MASKDET_CHECK(box.class_id >= 0 && static_cast<size_t>(box.class_id) < classes.size(), "voc_xml_string: ",
                  image.image_path, ": class id ", box.class_id, " has no name (", classes.size(), " classes)");
    out.OpenElement("object");
    leaf("name", classes[box.class_id]);
    leaf("difficult", box.difficult ? "1" : "0");
    out.OpenElement("bndbox");
    leaf("xmin", number(box.x1));
    leaf("ymin", number(box.y1));
    leaf("xmax", number(box.x2));
    leaf("ymax", number(box.y2));
    out.CloseElement();
    out.CloseElement();
  }
  out.CloseElement();
  return out.CStr();
}

}  // namespace maskdet::data
