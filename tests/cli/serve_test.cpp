// `maskdet serve`'s HTTP side in process: a DetectionServer on a free loopback port, asked with
// httplib::Client as a program would. Every endpoint answers; every bad request (not a picture,
// a truncated JPEG, an empty body, a wrong method, a body or a picture over the limits, an
// unknown path, a form without a file, another media type, a chunked body) gets its 4xx and a
// JSON message, and the server still answers afterwards; a full queue answers 503 with
// Retry-After and a picture that waited past the timeout 504, made deterministic by a runner
// that blocks until the test lets it go. The model is a tiny snapshot trained once (seconds) with
// --score-threshold 0, so it returns boxes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "apps/data_io/image_decode.h"
#include "apps/data_io/synthetic_voc.h"
#include "apps/maskdet/detection_server.h"
#include "apps/maskdet/detector.h"
#include "apps/maskdet/inference_queue.h"
#include "cli/cli_test_util.h"

namespace maskdet::cli_test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A server on 127.0.0.1:<free port> over `queue`, listening on its own thread until destroyed.
class RunningServer {
 public:
  RunningServer(app::ServeLimits limits, app::InferenceQueue& queue)
      : server_(limits, app::ModelDescription{{"mask", "noMask"}, "resnet18", 64, 64, "tiny"}, queue) {
    port_ = server_.bind("127.0.0.1", 0);
    thread_ = std::thread([this] { server_.listen(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~RunningServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(std::chrono::seconds(60));
    return c;
  }

 private:
  app::DetectionServer server_;
  int port_ = 0;
  std::thread thread_;
};

// Sends `request` over a new loopback connection and returns what comes back, up to the end of
// a JSON body (or until the server closes it, or 10 s pass).
std::string raw_exchange(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
    const timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    char buffer[4096];
    ssize_t n = 0;
    while (answer.find("}\n") == std::string::npos && (n = recv(fd, buffer, sizeof buffer, 0)) > 0)
      answer.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return answer;
}

// Status 'status' and a JSON body with a non-empty "error".
void expect_error(const httplib::Result& res, int status, const std::string& what) {
  ASSERT_TRUE(res) << what << ": no answer (" << httplib::to_string(res.error()) << ")";
  EXPECT_EQ(res->status, status) << what << ": " << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << what;
  const json body = json::parse(res->body, nullptr, false);
  ASSERT_FALSE(body.is_discarded()) << what << ": not JSON: " << res->body;
  EXPECT_TRUE(body.contains("error") && body["error"].is_string() && !body["error"].get<std::string>().empty())
      << what << ": " << res->body;
}

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string((fs::path(::testing::TempDir()) / ("maskdet_serve_" + std::to_string(getpid()))).string());
    fs::remove_all(*dir_);
    data::write_synthetic_voc(*dir_ + "/voc", 8, 3);
    const CommandResult train =
        run_maskdet("train --data " + *dir_ + "/voc --snapshot-path " + *dir_ + "/run " + kTinyTrainFlags);
    ASSERT_EQ(train.exit_code, 0) << train.output;
    detector_ = new app::LoadedDetector(app::load_detector(*dir_ + "/run", Device::cpu(), 0.0));
  }
  static void TearDownTestSuite() {
    delete detector_;
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string photo() { return read_file(*dir_ + "/voc/images/1.jpg"); }
  static app::InferenceQueue::Runner model_runner() {
    return [](const data::RgbImage& image) { return app::detect_picture(*detector_, image, "upload"); };
  }
  static app::ServeLimits limits() {
    app::ServeLimits l;
    l.max_body_bytes = 256 * 1024;
    l.max_pixels = 300 * 300;
    l.timeout_s = 30;
    l.connection_threads = 8;
    return l;
  }

  static std::string* dir_;
  static app::LoadedDetector* detector_;
};
std::string* Serve::dir_ = nullptr;
app::LoadedDetector* Serve::detector_ = nullptr;

TEST_F(Serve, AnswersEveryEndpoint) {
  app::InferenceQueue queue({model_runner()}, 4, std::chrono::seconds(30));
  RunningServer server(limits(), queue);
  httplib::Client client = server.client();

  const auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  const json h = json::parse(health->body);
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["model"]["classes"], json({"mask", "noMask"}));
  EXPECT_EQ(h["queue"]["capacity"], 4);

  const auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  for (const char* part : {"<html", "id=\"file\"", "id=\"view\"", "id=\"detections\"", "getUserMedia", "/v1/detect"})
    EXPECT_NE(page->body.find(part), std::string::npos) << part;
  EXPECT_EQ(page->body.find("http://"), std::string::npos) << "the page must load nothing from elsewhere";
  EXPECT_EQ(page->body.find("https://"), std::string::npos) << "the page must load nothing from elsewhere";

  const std::string bytes = photo();
  const data::RgbImage decoded = data::decode_image_bytes(bytes, "photo");
  const auto raw = client.Post("/v1/detect", bytes, "image/jpeg");
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->status, 200) << raw->body;
  const json answer = json::parse(raw->body);
  EXPECT_EQ(answer["image"]["width"], decoded.width);
  EXPECT_EQ(answer["image"]["height"], decoded.height);
  EXPECT_EQ(answer["model"]["backbone"], "resnet18");
  for (const char* t : {"decode", "queue", "inference", "total"}) EXPECT_GE(answer["time_ms"][t].get<double>(), 0) << t;
  EXPECT_GE(answer["time_ms"]["total"].get<double>(), answer["time_ms"]["inference"].get<double>());
  // The same as `detect_picture` on the same pixels, in the picture's own coordinates.
  const app::ImageDetections expected = app::detect_picture(*detector_, decoded, "photo");
  ASSERT_FALSE(expected.empty()) << "a tiny model at threshold 0 should return boxes";
  ASSERT_EQ(answer["detections"].size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const json& d = answer["detections"][i];
    EXPECT_EQ(d["class_id"], expected[i].class_id);
    EXPECT_EQ(d["class"], expected[i].class_id == 0 ? "mask" : "noMask");
    EXPECT_FLOAT_EQ(d["score"].get<float>(), expected[i].score);
    EXPECT_FLOAT_EQ(d["box"]["x1"].get<float>(), expected[i].x1);
    EXPECT_FLOAT_EQ(d["box"]["y2"].get<float>(), expected[i].y2);
    EXPECT_LE(d["box"]["x2"].get<float>(), static_cast<float>(decoded.width));
  }

  // The same picture as a browser's form upload, under the field "image" and under another name.
  for (const std::string field : {"image", "photo"}) {
    const auto form = client.Post("/v1/detect", httplib::MultipartFormDataItems{{field, bytes, "a.jpg", "image/jpeg"}});
    ASSERT_TRUE(form);
    ASSERT_EQ(form->status, 200) << field << ": " << form->body;
    EXPECT_EQ(json::parse(form->body)["detections"], answer["detections"]) << field;
  }
  // PNG, BMP and WebP as OpenCV writes them.
  cv::Mat bgr = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data())), cv::IMREAD_COLOR);
  for (const std::string ext : {".png", ".bmp", ".webp"}) {
    std::vector<uchar> encoded;
    ASSERT_TRUE(cv::imencode(ext, bgr, encoded)) << ext;
    const auto res = client.Post("/v1/detect", std::string(encoded.begin(), encoded.end()), "application/octet-stream");
    ASSERT_TRUE(res) << ext;
    ASSERT_EQ(res->status, 200) << ext << ": " << res->body;
    EXPECT_EQ(json::parse(res->body)["image"]["width"], decoded.width) << ext;
  }
}

TEST_F(Serve, RefusesBadRequestsWithJsonAndKeepsServing) {
  app::InferenceQueue queue({model_runner()}, 4, std::chrono::seconds(30));
  RunningServer server(limits(), queue);
  httplib::Client client = server.client();
  const std::string bytes = photo();

  expect_error(client.Post("/v1/detect", "hello, I am not a picture", "image/jpeg"), 400, "not an image");
  expect_error(client.Post("/v1/detect", bytes.substr(0, bytes.size() / 2), "image/jpeg"), 400, "truncated JPEG");
  expect_error(client.Post("/v1/detect", bytes.substr(0, 10), "image/jpeg"), 400, "JPEG cut inside its header");
  expect_error(client.Post("/v1/detect", "", "image/jpeg"), 400, "empty body");
  expect_error(client.Post("/v1/detect"), 400, "no body at all");
  expect_error(client.Post("/v1/detect", bytes, "text/plain"), 415, "another media type");
  expect_error(client.Post("/v1/detect", httplib::MultipartFormDataItems{{"note", "hello", "", "text/plain"}}), 400,
               "multipart without a file");
  const auto get = client.Get("/v1/detect");
  expect_error(get, 405, "GET on the API");
  EXPECT_EQ(get->get_header_value("Allow"), "POST");
  const auto del = client.Delete("/healthz");
  expect_error(del, 405, "DELETE on /healthz");
  EXPECT_EQ(del->get_header_value("Allow"), "GET, HEAD");
  expect_error(client.Post("/", bytes, "image/jpeg"), 405, "POST on the page");
  expect_error(client.Get("/v2/detect"), 404, "unknown path");
  expect_error(client.Post("/v1/detect", std::string(300 * 1024, 'x'), "image/jpeg"), 413, "body over --max-body-mb");
  // A 400x400 PNG is 160000 pixels, over the 90000 allowed; refused from its header.
  std::vector<uchar> big;
  ASSERT_TRUE(cv::imencode(".png", cv::Mat(400, 400, CV_8UC3, cv::Scalar(10, 200, 30)), big));
  ASSERT_LT(big.size(), 256u * 1024);
  expect_error(client.Post("/v1/detect", std::string(big.begin(), big.end()), "image/png"), 413, "too many pixels");
  // A PNG whose header claims 100000 x 100000: refused before any decoding tries to allocate it.
  std::string liar(big.begin(), big.end());
  for (int i = 0; i < 2; ++i) {
    const uint32_t side = 100000;
    for (int b = 0; b < 4; ++b) liar[16 + 4 * i + b] = static_cast<char>((side >> (24 - 8 * b)) & 0xFF);
  }
  const auto lie = client.Post("/v1/detect", liar, "image/png");
  expect_error(lie, 413, "a header claiming 10^10 pixels");
  EXPECT_NE(lie->body.find("100000x100000"), std::string::npos) << lie->body;
  // A chunked body (no Content-Length) would bypass httplib's size limit: refused from its headers
  // alone (sent over a plain socket: httplib's client writes the whole body before reading).
  const std::string chunked = raw_exchange(server.port(),
                                           "POST /v1/detect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
                                           "Transfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(chunked.rfind("HTTP/1.1 411", 0), 0u) << chunked;
  EXPECT_NE(chunked.find("{\"error\":"), std::string::npos) << chunked;

  // Still serving, on the same and on a new connection.
  const auto again = client.Post("/v1/detect", bytes, "image/jpeg");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  httplib::Client fresh = server.client();
  const auto health = fresh.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

// A runner that tells when it starts and then waits until the test releases it.
struct GatedRunner {
  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls = 0;
  app::InferenceQueue::Runner runner() {
    return [this](const data::RgbImage& image) {
      if (calls++ == 0) started.set_value();
      released.wait();
      return app::ImageDetections{{1, 2, 3, 4, 0.5f, 0}};
    };
  }
};

TEST_F(Serve, AFullQueueAnswers503AndAPictureThatWaitedTooLong504) {
  GatedRunner gate;
  // One worker, one place in the queue, and 300 ms as the longest wait.
  app::InferenceQueue queue({gate.runner()}, 1, std::chrono::milliseconds(300));
  app::ServeLimits l = limits();
  l.timeout_s = 0.3;
  RunningServer server(l, queue);
  const std::string bytes = photo();
  const auto post = [&] {
    httplib::Client c = server.client();
    const auto res = c.Post("/v1/detect", bytes, "image/jpeg");
    return res ? std::make_pair(res->status, res->body) : std::make_pair(-1, std::string());
  };
  auto running = std::async(std::launch::async, post);  // taken by the worker, which blocks
  gate.started.get_future().wait();
  auto waiting = std::async(std::launch::async, post);  // fills the queue
  while (queue.waiting() < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  httplib::Client client = server.client();
  const auto full = client.Post("/v1/detect", bytes, "image/jpeg");
  expect_error(full, 503, "queue full");
  EXPECT_EQ(full->get_header_value("Retry-After"), "1");
  // The HTTP side still answers while the worker is busy.
  const auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(json::parse(health->body)["queue"]["waiting"], 1);

  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the waiting picture is now too old
  gate.release.set_value();
  const auto first = running.get(), second = waiting.get();
  EXPECT_EQ(first.first, 200) << first.second;
  EXPECT_EQ(json::parse(first.second)["detections"].size(), 1u);
  EXPECT_EQ(second.first, 504) << second.second;
  EXPECT_NE(second.second.find("waited"), std::string::npos) << second.second;
  EXPECT_EQ(gate.calls, 1) << "the expired picture must not be run";
  // And the queue serves again.
  const auto after = client.Post("/v1/detect", bytes, "image/jpeg");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200) << after->body;
}

}  // namespace
}  // namespace maskdet::cli_test
