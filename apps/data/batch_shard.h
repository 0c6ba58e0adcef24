// Which images of a global batch one rank of a data-parallel run takes: contiguous shards in
// rank order, the first (size % ranks) one image larger, so that the shards of every rank
// together are exactly the batch a single process would build, and each image is prepared
// (decoded, augmented with its own seed) exactly as it would be there.
#pragma once
#include <cstddef>
#include <utility>

namespace maskdet::data {

// [begin, end) within a batch of `size` images for rank `rank` of `ranks`. May be empty when
// size < ranks.
inline std::pair<size_t, size_t> batch_shard(size_t size, int rank, int ranks) {
  const size_t r = static_cast<size_t>(rank), n = static_cast<size_t>(ranks);
  const size_t base = size / n, extra = size % n;
  const size_t begin = r * base + (r < extra ? r : extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

}  // namespace maskdet::data
