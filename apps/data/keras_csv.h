// keras-retinanet's CSV data set format (github.com/fizyr/keras-retinanet, README "CSV
// datasets"):
//   annotations: one object per row, `path,x1,y1,x2,y2,class_name`; an image without objects
//                is one row `path,,,,,`; an image with several objects has several rows.
//                Relative paths are relative to the CSV file's folder.
//   classes:     `class_name,id` per row; here the ids must be 0..K-1 (they index the model's
//                K outputs). A file without commas is read as one name per line, ids in order.
// Unlike keras-retinanet, coordinates may have decimals, and blank lines are ignored.
// The parse_* functions read text already in memory (the fuzz targets call them directly);
// every message starts with "<source>:<line>:".
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "apps/data/dataset_assembly.h"

namespace maskdet::data {

// Images in order of first appearance. A malformed row throws maskdet::Error, or with skip_bad
// leaves its image out (the whole image: its other rows too) and is counted in `report`.
std::vector<NamedImage> parse_keras_csv(std::string_view text, const std::string& source,
                                        const std::string& base_dir, bool skip_bad, LoadReport& report);

// The classes ordered by id. A file without any is an error, as is a name that is not UTF-8.
std::vector<std::string> parse_classes_csv(std::string_view text, const std::string& source);

std::vector<std::string> read_classes_file(const std::string& path);

// Reads the annotations file, then checks and numbers them (assemble_dataset). classes_path
// empty: classes discovered from the annotations.
Dataset read_keras_csv(const std::string& csv_path, const std::string& classes_path, const LoadOptions& options,
                       LoadReport& report, const ImageSizeProbe& probe = {});

}  // namespace maskdet::data
