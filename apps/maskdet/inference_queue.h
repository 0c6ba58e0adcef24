// The bounded queue between `maskdet serve`'s HTTP connection threads and its inference
// workers. A connection thread decodes the upload and submits it; when `capacity` pictures are
// already waiting, submit refuses at once (the server answers 503 with Retry-After) instead of
// letting waiting requests pile up without end. Each worker owns its runner (its own copy of the
// model: a RetinaNet caches its anchors per input size and is not safe for concurrent forwards),
// takes the oldest picture, and answers a picture that waited longer than `max_wait` as expired
// (504) without running it: its client has likely given up, and running it would only delay the
// pictures behind it. The HTTP threads are separate from the workers, so a full queue is always
// answered promptly, however long the forwards take.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "apps/data/rgb_image.h"
#include "apps/maskdet/detector.h"

namespace maskdet::app {

struct InferenceResult {
  enum class Outcome { done, expired, failed, shut_down };
  Outcome outcome = Outcome::done;
  ImageDetections detections;  // when done
  std::string error;           // when failed: the runner's message
  double queue_ms = 0;         // submitted -> taken by a worker
  double inference_ms = 0;     // the runner's time
};

class InferenceQueue {
 public:
  // One worker thread per runner; a runner is called only from its own worker.
  using Runner = std::function<ImageDetections(const data::RgbImage&)>;

  InferenceQueue(std::vector<Runner> runners, size_t capacity, std::chrono::duration<double> max_wait);
  // Answers the pictures still waiting as shut_down and joins the workers (after their current forward).
  ~InferenceQueue();
  InferenceQueue(const InferenceQueue&) = delete;
  InferenceQueue& operator=(const InferenceQueue&) = delete;

  // nullopt when `capacity` pictures are already waiting (or the queue is shutting down).
  std::optional<std::future<InferenceResult>> submit(data::RgbImage image);

  size_t waiting() const;
  size_t capacity() const { return capacity_; }
  size_t workers() const { return workers_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Job {
    data::RgbImage image;
    Clock::time_point submitted;
    std::promise<InferenceResult> answer;
  };
  void work(Runner& runner);

  std::vector<Runner> runners_;
  size_t capacity_;
  std::chrono::duration<double> max_wait_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace maskdet::app
