// The routes and limits of `maskdet serve` (detection_server.h) on cpp-httplib 0.11.4.
// httplib bounds a body by set_payload_max_length only when it comes with a Content-Length: a
// chunked body, one without a length, or a gzip-encoded one (httplib inflates it) would be read
// into memory whole, so those are refused before routing: 411 for a body without a length, 415
// for a Content-Encoding. Browsers, curl --data-binary / -F and requests all send the length.
#include "apps/maskdet/detection_server.h"

#include <httplib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>

#include "apps/cli/error_message.h"
#include "apps/maskdet/detect_request.h"

namespace maskdet::app {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double milliseconds(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Rounded to 0.01 ms: the figures are measurements, not more exact than that.
double rounded(double ms) { return std::round(ms * 100) / 100; }

void answer_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

void answer_error(httplib::Response& res, int status, const std::string& message) {
  answer_json(res, status, json{{"error", message}});
}

// What the server says for a status httplib chose itself (no route, a malformed request...).
std::string default_message(const httplib::Request& req, int status, const ServeLimits& limits) {
  switch (status) {
    case 400:
      return "malformed HTTP request";
    case 404:
      return "no such path: " + req.path + " (the server answers POST /v1/detect, GET /healthz and GET /)";
    case 413: {
      const std::string type = req.get_header_value("Content-Type");
      if (type.rfind("application/x-www-form-urlencoded", 0) == 0)  // httplib caps those at 8 KB
        return "a body of type application/x-www-form-urlencoded (curl's default for --data-binary) is not a "
               "picture: send it with Content-Type image/jpeg (or image/png, ...), or as the file field 'image' "
               "of a multipart form (curl -F image=@photo.jpg)";
      return "the request body is larger than the server's limit of " + std::to_string(limits.max_body_bytes) +
             " bytes (--max-body-mb)";
    }
    case 414:
      return "the request's URI is too long";
    default:
      return "HTTP status " + std::to_string(status);
  }
}

}  // namespace

struct DetectionServer::Impl {
  ServeLimits limits;
  ModelDescription model;
  InferenceQueue& queue;
  httplib::Server server;

  Impl(ServeLimits limits_, ModelDescription model_, InferenceQueue& queue_)
      : limits(limits_), model(std::move(model_)), queue(queue_) {
    const int threads = limits.connection_threads;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    server.set_payload_max_length(limits.max_body_bytes);
    const auto timeout = std::chrono::duration<double>(limits.timeout_s);
    server.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    server.set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    server.set_keep_alive_timeout(5);
    server.set_keep_alive_max_count(1000);

    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return refuse_unbounded_body(req, res) ? httplib::Server::HandlerResponse::Handled
                                             : httplib::Server::HandlerResponse::Unhandled;
    });
    server.Post("/v1/detect", [this](const httplib::Request& req, httplib::Response& res) { detect(req, res); });
    server.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) { answer_json(res, 200, health()); });
    server.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy",
                     "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src blob: data:; "
                     "media-src blob: mediastream:; connect-src 'self'");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_content(kServePage, "text/html; charset=utf-8");
    });
    wrong_methods("/v1/detect", "POST", false);
    wrong_methods("/healthz", "GET, HEAD", true);
    wrong_methods("/", "GET, HEAD", true);

    // Every status >= 400 passes here; answers that already carry their JSON keep it.
    server.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      answer_error(res, res.status, default_message(req, res.status, limits));
      return httplib::Server::HandlerResponse::Handled;
    }));
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        answer_error(res, 500, "internal error: " + cli::user_message(e));
      } catch (...) {
        answer_error(res, 500, "internal error");
      }
    });
    if (limits.access_log) {
      server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        std::fprintf(stderr, "%s %s %s -> %d (%zu bytes in, %zu out)\n", req.remote_addr.c_str(), req.method.c_str(),
                     req.path.c_str(), res.status, req.body.size(), res.body.size());
      });
    }
  }

  // The methods a path does not take: 405 naming those it does (OPTIONS: 204 with them).
  void wrong_methods(const std::string& path, const std::string& allow, bool post_is_wrong) {
    const auto refuse = [allow](const httplib::Request& req, httplib::Response& res) {
      res.set_header("Allow", allow);
      if (req.method == "OPTIONS") {
        res.status = 204;
        return;
      }
      answer_error(res, 405, req.method + " " + req.path + " is not served; it takes " + allow);
    };
    if (post_is_wrong) server.Post(path, refuse);
    else server.Get(path, refuse);
    server.Put(path, refuse);
    server.Patch(path, refuse);
    server.Delete(path, refuse);
    server.Options(path, refuse);
  }

  bool refuse_unbounded_body(const httplib::Request& req, httplib::Response& res) const {
    const bool has_body = req.has_header("Transfer-Encoding") || req.has_header("Content-Length");
    if (!has_body) {
      if (req.method != "POST" || req.path != "/v1/detect") return false;
      answer_error(res, 400, "the request has no body: send a picture");
      return true;
    }
    const std::string encoding = req.get_header_value("Content-Encoding");
    if (!encoding.empty() && encoding != "identity") {
      res.set_header("Connection", "close");
      answer_error(res, 415, "a Content-Encoding (" + encoding + ") is not accepted: send the picture as it is");
      return true;
    }
    if (!req.has_header("Content-Length")) {
      res.set_header("Connection", "close");
      answer_error(res, 411, "a body needs a Content-Length (chunked uploads are not accepted)");
      return true;
    }
    return false;
  }

  json model_json() const {
    return json{{"backbone", model.backbone},
                {"classes", model.classes},
                {"input", {{"min_side", model.min_side}, {"max_side", model.max_side}}}};
  }

  json health() const {
    return json{{"status", "ok"},
                {"model", model_json()},
                {"queue", {{"waiting", queue.waiting()}, {"capacity", queue.capacity()}, {"workers", queue.workers()}}}};
  }

  void detect(const httplib::Request& req, httplib::Response& res) {
    const Clock::time_point start = Clock::now();
    try {
      data::RgbImage image = decode_upload(upload_bytes(req), limits.max_pixels);
      const int width = image.width, height = image.height;
      const double decode_ms = milliseconds(Clock::now() - start);
      std::optional<std::future<InferenceResult>> answer = queue.submit(std::move(image));
      if (!answer) {
        res.set_header("Retry-After", "1");
        throw RequestError(503, "the server is busy: " + std::to_string(queue.capacity()) +
                                    " pictures are already waiting (--queue-size); retry later");
      }
      const InferenceResult result = answer->get();
      switch (result.outcome) {
        case InferenceResult::Outcome::done:
          break;
        case InferenceResult::Outcome::expired:
          throw RequestError(504, "the picture waited " + std::to_string(static_cast<int>(result.queue_ms)) +
                                      " ms in the queue, longer than the server's --timeout-s");
        case InferenceResult::Outcome::shut_down:
          res.set_header("Retry-After", "1");
          throw RequestError(503, "the server is shutting down");
        case InferenceResult::Outcome::failed:
          throw RequestError(500, "inference failed: " + result.error);
      }
      json detections = json::array();
      for (const DetectedBox& d : result.detections) {
        const size_t id = static_cast<size_t>(d.class_id);
        detections.push_back({{"class", id < model.classes.size() ? model.classes[id] : std::to_string(id)},
                              {"class_id", d.class_id},
                              {"score", d.score},
                              {"box", {{"x1", d.x1}, {"y1", d.y1}, {"x2", d.x2}, {"y2", d.y2}}}});
      }
      answer_json(res, 200,
                  json{{"detections", std::move(detections)},
                       {"image", {{"width", width}, {"height", height}}},
                       {"model", model_json()},
                       {"time_ms",
                        {{"decode", rounded(decode_ms)},
                         {"queue", rounded(result.queue_ms)},
                         {"inference", rounded(result.inference_ms)},
                         {"total", rounded(milliseconds(Clock::now() - start))}}}});
    } catch (const RequestError& e) {
      answer_error(res, e.status(), e.what());
    }
  }
};

DetectionServer::DetectionServer(ServeLimits limits, ModelDescription model, InferenceQueue& queue)
    : impl_(std::make_unique<Impl>(limits, std::move(model), queue)) {}

DetectionServer::~DetectionServer() = default;

int DetectionServer::bind(const std::string& host, int port) {
  if (port == 0) {
    const int chosen = impl_->server.bind_to_any_port(host);
    MASKDET_CHECK(chosen > 0, "cannot listen on ", host, ": no free port (or the address is not this machine's)");
    return chosen;
  }
  MASKDET_CHECK(impl_->server.bind_to_port(host, port), "cannot listen on ", host, ":", port,
                " (in use, or the address is not this machine's)");
  return port;
}

bool DetectionServer::listen() { return impl_->server.listen_after_bind(); }
void DetectionServer::stop() { impl_->server.stop(); }
bool DetectionServer::is_running() const { return impl_->server.is_running(); }

}  // namespace maskdet::app
