// The background batch loader (data_loader.h). One task is one batch: a worker claims the next
// step, builds it without holding the lock, and files it under its step number; next() waits
// for exactly the step it must return.
#include "apps/data/data_loader.h"

#include <numeric>

#include "apps/data/batch_shard.h"
#include "apps/data/seed_derivation.h"

namespace maskdet::data {

DataLoader::DataLoader(std::shared_ptr<const SampleSource> source, LoaderOptions options)
    : source_(std::move(source)), options_(std::move(options)) {
  MASKDET_CHECK(source_ != nullptr, "DataLoader: no source");
  MASKDET_CHECK(options_.batch_size > 0, "DataLoader: batch_size ", options_.batch_size, " must be positive");
  MASKDET_CHECK(options_.workers >= 0, "DataLoader: workers ", options_.workers, " must not be negative");
  MASKDET_CHECK(options_.prefetch_batches > 0, "DataLoader: prefetch_batches ", options_.prefetch_batches,
                " must be positive");
  MASKDET_CHECK(options_.shard_count > 0 && options_.shard_rank >= 0 && options_.shard_rank < options_.shard_count,
                "DataLoader: shard ", options_.shard_rank, " of ", options_.shard_count);
}

DataLoader::~DataLoader() { stop_workers(); }

int64_t DataLoader::steps_per_epoch() const {
  const int64_t n = static_cast<int64_t>(source_->size()), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<size_t> DataLoader::epoch_order(int64_t epoch) const {
  std::vector<size_t> order(source_->size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (!options_.shuffle) return order;
  Generator gen(derive_seed(options_.seed, {static_cast<uint64_t>(epoch)}));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[gen.next_u64() % i]);
  return order;
}

size_t DataLoader::global_batch_size(int64_t step) const {
  const size_t begin = static_cast<size_t>(step * options_.batch_size);
  MASKDET_CHECK(step >= 0 && begin < source_->size(), "DataLoader: step ", step, " is outside the epoch's ",
                steps_per_epoch(), " steps");
  return std::min(source_->size() - begin, static_cast<size_t>(options_.batch_size));
}

Batch DataLoader::make_batch(const std::vector<size_t>& order, int64_t epoch, int64_t step) const {
  const size_t begin = static_cast<size_t>(step * options_.batch_size);
  const size_t end = begin + global_batch_size(step);
  const auto [shard_begin, shard_end] = batch_shard(end - begin, options_.shard_rank, options_.shard_count);
  MASKDET_CHECK(shard_begin < shard_end, "DataLoader: step ", step, "'s batch of ", end - begin,
                " images has none for rank ", options_.shard_rank, " of ", options_.shard_count);
  std::vector<PreparedSample> samples;
  for (size_t i = begin + shard_begin; i < begin + shard_end; ++i)
    samples.push_back(prepare_sample(*source_, order[i], options_.pipeline, options_.seed,
                                     static_cast<uint64_t>(epoch)));
  return collate(samples, options_.size_divisible, options_.canvas);
}

Batch DataLoader::batch_at(int64_t epoch, int64_t step) const { return make_batch(epoch_order(epoch), epoch, step); }

void DataLoader::start_epoch(int64_t epoch) {
  stop_workers();
  {
    std::lock_guard lock(mutex_);
    epoch_ = epoch;
    order_ = epoch_order(epoch);
    next_to_claim_ = next_to_return_ = 0;
    done_.clear();
    stopping_ = failed_ = false;
  }
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

void DataLoader::worker_loop() {
  std::unique_lock lock(mutex_);
  const int64_t steps = steps_per_epoch();
  for (;;) {
    work_ready_.wait(lock, [&] {
      return stopping_ || failed_ || next_to_claim_ >= steps ||
             next_to_claim_ < next_to_return_ + options_.prefetch_batches;
    });
    if (stopping_ || failed_ || next_to_claim_ >= steps) return;
    const int64_t step = next_to_claim_++;
    Slot slot;
    lock.unlock();
    try {
      slot.batch = make_batch(order_, epoch_, step);
    } catch (const std::exception& e) {
      slot.error = std::make_exception_ptr(
          Error("DataLoader epoch " + std::to_string(epoch_) + " step " + std::to_string(step) + ": " + e.what()));
    }
    lock.lock();
    if (slot.error) failed_ = true;
    done_[step] = std::move(slot);
    result_ready_.notify_all();
    if (failed_) work_ready_.notify_all();
  }
}

std::optional<Batch> DataLoader::next() {
  std::unique_lock lock(mutex_);
  MASKDET_CHECK(epoch_ >= 0, "DataLoader: call start_epoch before next");
  if (next_to_return_ >= steps_per_epoch()) return std::nullopt;
  const int64_t step = next_to_return_;
  if (workers_.empty()) {
    ++next_to_return_;
    lock.unlock();
    try {
      return make_batch(order_, epoch_, step);
    } catch (const std::exception& e) {
      throw Error("DataLoader epoch " + std::to_string(epoch_) + " step " + std::to_string(step) + ": " + e.what());
    }
  }
  // Steps after a failed one are never claimed: waiting for them would wait forever.
  result_ready_.wait(lock, [&] { return done_.count(step) > 0 || (failed_ && step >= next_to_claim_); });
  MASKDET_CHECK(done_.count(step) > 0, "DataLoader epoch ", epoch_, ": step ", step,
                " was not built because an earlier step failed; call start_epoch to go on");
  Slot slot = std::move(done_[step]);
  done_.erase(step);
  ++next_to_return_;
  work_ready_.notify_all();
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.batch);
}

void DataLoader::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

}  // namespace maskdet::data
