// Pascal VOC annotation XML (the VOC2007+ devkit format, as written by labelImg):
//   <annotation> <filename>..</filename> <size><width/><height/><depth/></size>
//     <object> <name>class</name> <difficult>0|1</difficult>
//              <bndbox><xmin/><ymin/><xmax/><ymax/></bndbox> </object> ... </annotation>
// Coordinates are read as written (VOC's are 1-based pixel indices; keras-retinanet and
// torchvision's VOC readers use them as they are, and so does this one). <size> and
// <difficult> may be absent. Messages start with "<source>:<line>:" and name the element.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "apps/data/dataset_assembly.h"

namespace maskdet::data {

// One annotation from text in memory (what the fuzz target calls). image_path is the
// <filename> text as written, empty when absent. Throws maskdet::Error.
NamedImage parse_voc_xml(std::string_view text, const std::string& source);

// The same read from a file.
NamedImage read_voc_xml(const std::string& path);

// An annotation as VOC XML text, e.g. for the synthetic data set.
std::string voc_xml_string(const ImageAnnotation& image, const std::vector<std::string>& classes);

}  // namespace maskdet::data
