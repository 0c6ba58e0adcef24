// The HTTP side of `maskdet serve` (cpp-httplib): the routes, the limits a public service needs,
// and every failure answered as JSON {"error": "..."} with its 4xx/5xx status.
//   POST /v1/detect   a picture (raw body or multipart form) -> its detections as JSON
//   GET  /healthz     {"status": "ok", ...}: the model and the queue
//   GET  /            the page (serve_page.html): drop a photo or turn on the webcam
// Other methods on these paths get 405 with Allow, other paths 404. The picture is decoded on
// the connection's thread and handed to the InferenceQueue, whose workers run the model.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "apps/maskdet/inference_queue.h"

namespace maskdet::app {

struct ServeLimits {
  size_t max_body_bytes = size_t{20} << 20;
  int64_t max_pixels = 40'000'000;
  double timeout_s = 30;         // socket reads and writes; the longest a picture may wait in the queue
  int connection_threads = 16;   // connections served at once (keep-alive ones hold theirs)
  bool access_log = false;       // one line per request on stderr
};

// What the answers say about the model.
struct ModelDescription {
  std::vector<std::string> classes;
  std::string backbone;
  double min_side = 0, max_side = 0;  // the inference resize: shorter side, longest side
  std::string snapshot;
};

// The text of GET / (serve_page.html, made into a C++ string by the build).
extern const char* const kServePage;

class DetectionServer {
 public:
  DetectionServer(ServeLimits limits, ModelDescription model, InferenceQueue& queue);
  ~DetectionServer();

  // Binds host:port (port 0: a free one) and returns the port. Throws maskdet::Error.
  int bind(const std::string& host, int port);
  // Serves until stop(); returns false when the server failed rather than being stopped.
  bool listen();
  // Callable from any thread; makes listen() return after the open requests are answered.
  void stop();
  bool is_running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace maskdet::app
