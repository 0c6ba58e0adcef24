// DataLoader: batches from a SampleSource made by background threads while training runs, in
// the spirit of torch.utils.data.DataLoader (workers, prefetching, per-epoch shuffling) but
// deterministic by construction: the batch at (seed, epoch, step) is the same for any number
// of workers, because
//   - the epoch's order is a Fisher-Yates shuffle drawn from derive_seed(seed, {epoch}),
//   - each sample's augmentation uses its own Generator (sample_pipeline.h),
//   - batches are handed out in step order whatever order the workers finish them in.
// The queue is bounded: workers stay at most `prefetch_batches` ahead of the consumer. An
// exception in a worker is rethrown by next() at its step, naming the sample. The destructor
// (or the next start_epoch) stops and joins the workers.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "apps/data/batch.h"

namespace maskdet::data {

struct LoaderOptions {
  int64_t batch_size = 2;
  int workers = 2;            // background threads; 0 builds each batch inside next()
  int prefetch_batches = 4;   // finished or in-progress batches allowed ahead of the consumer
  uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = false;     // drop a last batch smaller than batch_size
  int size_divisible = kSizeDivisible;
  int canvas = 0;  // > 0: every batch at least canvas x canvas (collate)
  PipelineOptions pipeline;
  // Data parallelism: batches hold only this rank's shard of each global batch (batch_shard.h);
  // batch_size, the order and the steps stay the global ones.
  int shard_rank = 0;
  int shard_count = 1;
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const SampleSource> source, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  int64_t steps_per_epoch() const;
  // The images of the global batch at `step` of an epoch, every rank's shard together:
  // batch_size, or what the epoch has left for its last batch.
  size_t global_batch_size(int64_t step) const;
  // The source indices of epoch `epoch`, in the order batches take them.
  std::vector<size_t> epoch_order(int64_t epoch) const;

  // Starts (or restarts) an epoch; workers begin filling the queue at once.
  void start_epoch(int64_t epoch);
  // The epoch's next batch, or nullopt when it is over. Rethrows a worker's exception.
  std::optional<Batch> next();

  // Builds one batch in the calling thread, without touching the workers.
  Batch batch_at(int64_t epoch, int64_t step) const;

  const SampleSource& source() const { return *source_; }
  const LoaderOptions& options() const { return options_; }

 private:
  struct Slot {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };

  Batch make_batch(const std::vector<size_t>& order, int64_t epoch, int64_t step) const;
  void worker_loop();
  void stop_workers();

  std::shared_ptr<const SampleSource> source_;
  LoaderOptions options_;

  // The running epoch, shared with the workers under mutex_.
  std::mutex mutex_;
  std::condition_variable work_ready_, result_ready_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
  bool failed_ = false;  // a worker failed: no more steps are claimed
  int64_t epoch_ = -1;
  std::vector<size_t> order_;
  int64_t next_to_claim_ = 0, next_to_return_ = 0;
  std::map<int64_t, Slot> done_;
};

}  // namespace maskdet::data
