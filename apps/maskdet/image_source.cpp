// Choosing, checking and building the image source (image_source.h).
#include "apps/maskdet/image_source.h"

#include <chrono>
#include <filesystem>
#include <iostream>

#include "apps/cli/error_message.h"
#include "apps/data/prepared_cache.h"
#include "apps/data_io/cache_builder.h"
#include "apps/data_io/image_file_source.h"

namespace maskdet::app {

namespace {

// Why `cache` cannot stand in for `dataset`, or "" when it can.
std::string mismatch(const data::PreparedCache& cache, const data::Dataset& dataset, int max_side) {
  if (cache.classes() != dataset.classes) return "its classes differ";
  if (cache.size() != dataset.images.size())
    return "it holds " + std::to_string(cache.size()) + " images, the data set " + std::to_string(dataset.images.size());
  if (cache.max_side() < max_side)
    return "its images are at most " + std::to_string(cache.max_side()) + " px, training needs " + std::to_string(max_side);
  for (size_t i = 0; i < cache.size(); ++i)
    if (cache.load(i).image_path != dataset.images[i].image_path) return "image " + std::to_string(i) + " differs";
  return "";
}

}  // namespace

std::shared_ptr<const data::SampleSource> open_image_source(const data::Dataset& dataset, const std::string& cache_path,
                                                           int max_side, int threads) {
  if (cache_path.empty()) return std::make_shared<data::ImageFileSource>(dataset);
  std::error_code ec;
  if (std::filesystem::exists(cache_path, ec)) {
    std::string reason;
    try {
      auto cache = std::make_shared<data::PreparedCache>(cache_path);
      reason = mismatch(*cache, dataset, max_side);
      if (reason.empty()) {
        std::cerr << "using the prepared cache " << cache_path << "\n";
        return cache;
      }
    } catch (const std::exception& e) {
      reason = cli::without_source_location(e.what());
    }
    std::cerr << "rebuilding the prepared cache " << cache_path << ": " << reason << "\n";
  }
  const auto start = std::chrono::steady_clock::now();
  std::cerr << "building the prepared cache " << cache_path << " (" << dataset.images.size() << " images, at most "
            << max_side << " px)..." << std::flush;
  data::build_prepared_cache(dataset, cache_path, max_side, threads);
  std::cerr << " done in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
            << " s\n";
  return std::make_shared<data::PreparedCache>(cache_path);
}

}  // namespace maskdet::app
