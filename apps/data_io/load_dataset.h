// load_dataset: what a program's --data PATH [--classes FILE] turns into. It looks at PATH:
//   a *.csv file                                   keras-retinanet CSV (keras_csv.h)
//   a folder with Annotations/ and JPEGImages/     VOC devkit (LoadOptions::voc_split)
//   a folder with annotations/ and images/         VOC flat layout (the face-mask set)
//   a folder holding *.xml files                   VOC flat layout, images beside them
// The classes come from the classes file when one is given (keras `name,id` rows, or one
// name per line), else from the data (sorted names). Images are checked as
// LoadOptions::check_images says, decoding them for ImageCheck::Decodes. A summary of what was
// skipped or clipped goes to options.log, and so do the classes with their box counts when they
// came from the data.
#pragma once
#include <string>

#include "apps/data/annotations.h"
#include "apps/data/load_options.h"

namespace maskdet::data {

Dataset load_dataset(const std::string& path, const std::string& classes_file, const LoadOptions& options,
                     LoadReport* report = nullptr);

}  // namespace maskdet::data
