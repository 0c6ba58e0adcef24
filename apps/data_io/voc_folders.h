// The two folder layouts Pascal VOC annotations come in:
//   flat:   <images dir> and <annotations dir> side by side (labelImg's output, the face-mask
//           set: images/N.jpg + annotations/N.xml); every *.xml file is read, sorted by name;
//   devkit: VOCdevkit/VOC20xx with Annotations/<id>.xml, JPEGImages/<id>.jpg and, to choose a
//           subset, ImageSets/Main/<split>.txt listing one id per line.
// An image is found under its <filename>; when that file does not exist, under the XML file's
// base name with a common image extension (.jpg, .jpeg, .png, .bmp, either case). When none
// exists the first candidate is kept and assemble_dataset reports it missing if asked to check.
#pragma once
#include <string>
#include <vector>

#include "apps/data/dataset_assembly.h"

namespace maskdet::data {

std::vector<NamedImage> read_voc_folder(const std::string& annotations_dir, const std::string& images_dir,
                                        bool skip_bad, LoadReport& report);

// split empty: every annotation in Annotations/.
std::vector<NamedImage> read_voc_devkit(const std::string& root, const std::string& split, bool skip_bad,
                                        LoadReport& report);

}  // namespace maskdet::data
