// Writing the synthetic face-mask set (apps/data/synthetic_faces.h) to disk in the VOC flat
// layout the real set uses: <dir>/images/<i>.jpg and <dir>/annotations/<i>.xml, so CI can run
// the whole path from files to a trained model without the photographs.
#pragma once
#include <cstdint>
#include <string>

#include "apps/data/synthetic_faces.h"

namespace maskdet::data {

// Returns the number of boxes written.
size_t write_synthetic_voc(const std::string& dir, size_t count, uint64_t seed, const SyntheticOptions& options = {});

}  // namespace maskdet::data
