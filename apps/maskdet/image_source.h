// Where training, evaluation and the debug view get a data set's pixels: decoded from the image
// files on every request, or from the prepared cache (apps/data/prepared_cache.h), which decodes
// each image once and keeps it shrunk to the size training needs. A cache that does not match
// the data set (other images, other classes, or stored smaller than needed) is rebuilt, so a
// stale file is never trained on.
#pragma once
#include <memory>
#include <string>

#include "apps/data/annotations.h"
#include "apps/data/sample_source.h"

namespace maskdet::app {

// Sample i is dataset.images[i]. cache_path empty: the image files. max_side: the longest side
// a prepared image may need (the cache stores no more than that).
std::shared_ptr<const data::SampleSource> open_image_source(const data::Dataset& dataset, const std::string& cache_path,
                                                           int max_side, int threads);

}  // namespace maskdet::app
