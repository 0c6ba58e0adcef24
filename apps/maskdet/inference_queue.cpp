// The bounded inference queue (inference_queue.h).
#include "apps/maskdet/inference_queue.h"

#include <exception>

#include "apps/cli/error_message.h"

namespace maskdet::app {

namespace {

double milliseconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

InferenceQueue::InferenceQueue(std::vector<Runner> runners, size_t capacity, std::chrono::duration<double> max_wait)
    : runners_(std::move(runners)), capacity_(capacity), max_wait_(max_wait) {
  MASKDET_CHECK(!runners_.empty(), "InferenceQueue: no workers");
  for (Runner& runner : runners_) workers_.emplace_back([this, &runner] { work(runner); });
}

InferenceQueue::~InferenceQueue() {
  std::deque<Job> left;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    left.swap(jobs_);
  }
  wake_.notify_all();
  for (Job& job : left) {
    InferenceResult result;
    result.outcome = InferenceResult::Outcome::shut_down;
    job.answer.set_value(std::move(result));
  }
  for (std::thread& worker : workers_) worker.join();
}

std::optional<std::future<InferenceResult>> InferenceQueue::submit(data::RgbImage image) {
  std::future<InferenceResult> answer;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || jobs_.size() >= capacity_) return std::nullopt;
    jobs_.push_back(Job{std::move(image), Clock::now(), {}});
    answer = jobs_.back().answer.get_future();
  }
  wake_.notify_one();
  return answer;
}

size_t InferenceQueue::waiting() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

void InferenceQueue::work(Runner& runner) {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    InferenceResult result;
    const Clock::time_point taken = Clock::now();
    result.queue_ms = milliseconds(taken - job.submitted);
    if (taken - job.submitted > max_wait_) {
      result.outcome = InferenceResult::Outcome::expired;
    } else {
      try {
        result.detections = runner(job.image);
      } catch (const std::exception& e) {
        result.outcome = InferenceResult::Outcome::failed;
        result.error = cli::user_message(e);
      }
      result.inference_ms = milliseconds(Clock::now() - taken);
    }
    job.answer.set_value(std::move(result));
  }
}

}  // namespace maskdet::app
