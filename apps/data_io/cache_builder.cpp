// Decode, shrink, write (cache_builder.h). Threads take images by an atomic counter; each
// result lands in its own slot, so the file's order is the data set's order.
#include "apps/data_io/cache_builder.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "apps/data/prepared_cache.h"
#include "apps/data_io/image_file_source.h"

namespace maskdet::data {

void build_prepared_cache(const Dataset& dataset, const std::string& path, int max_side, int threads) {
  MASKDET_CHECK(max_side > 0, "build_prepared_cache ", path, ": max_side ", max_side, " must be positive");
  const ImageFileSource source(dataset);
  std::vector<Sample> samples(source.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (size_t i = next++; i < samples.size() && !failed; i = next++) {
      try {
        samples[i] = shrink_for_cache(source.load(i), max_side);
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mutex);
        if (!failed.exchange(true))
          error = std::make_exception_ptr(
              Error("build_prepared_cache " + path + ": sample " + std::to_string(i) + ": " + e.what()));
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(threads, 1); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  write_prepared_cache(path, dataset.classes, samples, max_side);
}

}  // namespace maskdet::data
