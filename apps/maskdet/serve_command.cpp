// `maskdet serve`: a snapshot behind an HTTP API and a page (detection_server.h), for a person
// with a browser or a program with an HTTP client. Listens on loopback unless told otherwise;
// prints "maskdet serve: listening on http://HOST:PORT" once it accepts connections, so a
// script can start it with --port 0 and read the port it got; SIGINT or SIGTERM stop it after
// the requests in progress are answered (exit status 0).
#include <omp.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "apps/maskdet/commands.h"
#include "apps/maskdet/detection_server.h"
#include "apps/maskdet/detector.h"
#include "apps/maskdet/inference_flags.h"
#include "apps/maskdet/inference_queue.h"

namespace maskdet::app {

namespace {

struct ServeSettings {
  std::string snapshot;
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 1;
  int queue_size = 16;
  int connections = 32;
  double max_body_mb = 20;
  int64_t max_pixels = 40'000'000;
  double timeout_s = 30;
  double score_threshold = 0.5;
  std::string device = "cpu";
  InferenceFlags size;
  bool class_agnostic_nms = false;
  bool access_log = false;
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The stop signal received (0: none). A handler, not sigwait: OpenBLAS and OpenMP start threads
// before serve_command can block the signals in them, and a process-directed signal may reach
// any thread.
volatile std::sig_atomic_t stop_signal = 0;

void note_stop_signal(int signal) { stop_signal = signal; }

// Stops the server once a stop signal has been noted; returns when `done`.
void stop_on_signal(DetectionServer& server, const std::atomic<bool>& done) {
  while (!done) {
    if (stop_signal != 0) {
      std::fprintf(stderr, "maskdet serve: %s: stopping after the requests in progress\n",
                   stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
      server.stop();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

int serve_command(const std::vector<std::string>& args) {
  ServeSettings s;
  cli::Flags flags("maskdet serve",
                   "Serves a snapshot over HTTP: POST /v1/detect (a picture -> JSON detections), GET /healthz, "
                   "and GET / (a page: drop a photo or use the webcam).");
  flags.add("--snapshot", s.snapshot, "FILE|DIR", "the snapshot (a folder: its newest)");
  flags.add("--host", s.host, "ADDR", "address to listen on (loopback by default; 0.0.0.0: every interface)");
  flags.add("--port", s.port, "N", "port to listen on (0: a free one, printed)");
  flags.add("--threads", s.threads, "N", "inference workers, each with its own copy of the model");
  flags.add("--queue-size", s.queue_size, "N", "pictures that may wait for a worker; beyond that: 503");
  flags.add("--connections", s.connections, "N", "HTTP connections served at once (threads)");
  flags.add("--max-body-mb", s.max_body_mb, "MB", "largest request body accepted (413 beyond)");
  flags.add("--max-pixels", s.max_pixels, "N", "largest picture accepted, width x height, checked before decoding (413)");
  flags.add("--timeout-s", s.timeout_s, "S", "socket read/write timeout, and the longest a picture waits in the queue (504)");
  flags.add("--score-threshold", s.score_threshold, "X", "lowest score returned");
  s.size.bind(flags);
  flags.add("--device", s.device, "cpu|cuda", "where the model runs");
  flags.add_switch("--class-agnostic-nms", s.class_agnostic_nms,
                   "one NMS over all classes: keep one box per object when its classes exclude each other");
  flags.add_switch("--access-log", s.access_log, "one line per request on stderr");
  if (cli::Flags::wants_help(args)) {
    std::cout << flags.usage();
    return 0;
  }
  flags.parse(args);
  const auto require = [](bool ok, const std::string& message) {
    if (!ok) throw cli::UsageError("maskdet serve: " + message);
  };
  require(!s.snapshot.empty(), "--snapshot FILE is required");
  require(s.port >= 0 && s.port <= 65535, "--port must be in [0, 65535]");
  require(s.threads >= 1 && s.threads <= 256, "--threads must be in [1, 256]");
  require(s.queue_size >= 1, "--queue-size must be >= 1");
  require(s.connections >= 1 && s.connections <= 4096, "--connections must be in [1, 4096]");
  require(s.max_body_mb > 0 && s.max_body_mb <= 4096, "--max-body-mb must be in (0, 4096]");
  require(s.max_pixels >= 1, "--max-pixels must be >= 1");
  require(s.timeout_s > 0, "--timeout-s must be > 0");
  require(s.score_threshold >= 0 && s.score_threshold <= 1, "--score-threshold must be in [0, 1]");
  s.size.check("serve");

  const Device device = usable_device(s.device);
  // Each worker its own model: forwards run in parallel without a lock, and a model's anchor
  // cache is never shared between threads. The weights are copied once per worker.
  std::vector<LoadedDetector> detectors;
  SmallFacePass small_faces;  // the same for every copy
  for (int i = 0; i < s.threads; ++i) {
    detectors.push_back(load_detector(s.snapshot, device, s.score_threshold, s.class_agnostic_nms));
    small_faces = s.size.apply(detectors.back());
  }
  std::printf("%s\n", describe_small_face_pass(small_faces).c_str());
  const LoadedDetector& first = detectors.front();
  const data::PipelineOptions size = inference_pipeline(first.settings);
  const ModelDescription model{first.info.classes, first.settings.backbone, size.min_side, size.max_side, first.path};

  // A shell starts a background job with SIGINT ignored; a server still stops on it.
  struct sigaction action{};
  action.sa_handler = note_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  // One forward already uses every core (OpenMP); N workers share them instead of each
  // starting a team of all cores.
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const int threads_per_worker = std::max(1, cores / s.threads);
  std::vector<InferenceQueue::Runner> runners;
  for (const LoadedDetector& detector : detectors) {
    runners.push_back([&detector, small_faces, threads_per_worker, first_call = true](const data::RgbImage& image) mutable {
      if (first_call) omp_set_num_threads(threads_per_worker);  // this worker thread's OpenMP teams
      first_call = false;
      return detect_picture_with_small_faces(detector, image, "upload", small_faces);
    });
  }
  InferenceQueue queue(std::move(runners), static_cast<size_t>(s.queue_size), std::chrono::duration<double>(s.timeout_s));

  ServeLimits limits;
  limits.max_body_bytes = static_cast<size_t>(s.max_body_mb * 1024 * 1024);
  limits.max_pixels = s.max_pixels;
  limits.timeout_s = s.timeout_s;
  limits.connection_threads = s.connections;
  limits.access_log = s.access_log;
  DetectionServer server(limits, model, queue);
  const int port = server.bind(s.host, s.port);
  if (!is_loopback(s.host))
    std::fprintf(stderr, "maskdet serve: warning: listening on %s, reachable from other machines; the server has no "
                 "authentication and no TLS (put it behind a reverse proxy that has them)\n", s.host.c_str());
  const std::string shown_host = s.host.find(':') != std::string::npos ? "[" + s.host + "]" : s.host;
  std::printf("maskdet serve: %s (%s, %d worker%s) on %s\n", first.path.c_str(), first.settings.backbone.c_str(),
              s.threads, s.threads == 1 ? "" : "s", device.str().c_str());
  std::printf("maskdet serve: listening on http://%s:%d\n", shown_host.c_str(), port);
  std::fflush(stdout);

  std::atomic<bool> done = false;
  std::thread signal_waiter(stop_on_signal, std::ref(server), std::cref(done));
  const bool stopped_cleanly = server.listen();
  done = true;
  signal_waiter.join();
  MASKDET_CHECK(stopped_cleanly, "the server on ", shown_host, ":", port, " stopped unexpectedly");
  std::printf("maskdet serve: stopped\n");
  return 0;
}

}  // namespace maskdet::app
