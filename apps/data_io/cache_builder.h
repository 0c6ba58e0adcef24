// Building the prepared cache (apps/data/prepared_cache.h) from a Dataset: every image decoded
// (on `threads` threads), shrunk to max_side, and written in one atomic step. Reading the
// cache afterwards needs none of this library.
#pragma once
#include <string>

#include "apps/data/annotations.h"

namespace maskdet::data {

// Throws maskdet::Error naming the first image that fails to decode; nothing is written then.
void build_prepared_cache(const Dataset& dataset, const std::string& path, int max_side, int threads = 2);

}  // namespace maskdet::data
