// The rendezvous store over TCP (tcp_store.h). Messages are length-prefixed: a request is
// u32 length, u8 operation, then its fields; strings are u32 length + bytes; integers are in
// host byte order (every rank of a run is the same build on the same kind of machine).
#include "apps/dist/tcp_store.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "apps/dist/process_group.h"

namespace maskdet::dist {

namespace {

enum Operation : uint8_t { kSet = 1, kGet = 2, kWait = 3 };

class Writer {
 public:
  template <class T>
  void number(T value) {
    const char* p = reinterpret_cast<const char*>(&value);
    bytes.insert(bytes.end(), p, p + sizeof value);
  }
  void text(const std::string& s) { blob(s.data(), s.size()); }
  void blob(const char* data, size_t size) {
    number(static_cast<uint32_t>(size));
    bytes.insert(bytes.end(), data, data + size);
  }
  std::vector<char> bytes;
};

class Reader {
 public:
  explicit Reader(const std::vector<char>& bytes) : bytes_(bytes) {}
  template <class T>
  T number() {
    T value;
    need(sizeof value);
    std::memcpy(&value, bytes_.data() + at_, sizeof value);
    at_ += sizeof value;
    return value;
  }
  std::vector<char> blob() {
    const auto size = number<uint32_t>();
    need(size);
    std::vector<char> out(bytes_.begin() + static_cast<long>(at_), bytes_.begin() + static_cast<long>(at_ + size));
    at_ += size;
    return out;
  }
  std::string text() {
    const std::vector<char> b = blob();
    return {b.begin(), b.end()};
  }

 private:
  void need(size_t n) const {
    if (at_ + n > bytes_.size()) throw DistError("TcpStore: message cut short");
  }
  const std::vector<char>& bytes_;
  size_t at_ = 0;
};

bool send_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool recv_all(int fd, char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = recv(fd, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool send_message(int fd, const std::vector<char>& message) {
  const auto size = static_cast<uint32_t>(message.size());
  return send_all(fd, reinterpret_cast<const char*>(&size), sizeof size) && send_all(fd, message.data(), message.size());
}

bool recv_message(int fd, std::vector<char>& message) {
  uint32_t size = 0;
  if (!recv_all(fd, reinterpret_cast<char*>(&size), sizeof size)) return false;
  message.resize(size);
  return recv_all(fd, message.data(), size);
}

addrinfo* resolve(const std::string& host, int port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (passive) hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
    throw DistError("TcpStore: cannot resolve " + host + ": " + gai_strerror(rc));
  return found;
}

}  // namespace

TcpStoreServer::TcpStoreServer(const std::string& host, int port) {
  addrinfo* found = resolve(host, port, /*passive=*/true);
  std::string last_error = "no address";
  for (addrinfo* a = found; a && listen_fd_ < 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 128) == 0) {
      listen_fd_ = fd;
    } else {
      last_error = std::strerror(errno);
      close(fd);
    }
  }
  freeaddrinfo(found);
  if (listen_fd_ < 0)
    throw DistError("rank 0: cannot serve the rendezvous store at " + host + ":" + std::to_string(port) + ": " +
                    last_error + " (is MASTER_PORT in use by another run?)");
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpStoreServer::~TcpStoreServer() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  {
    std::lock_guard lock(mutex_);
    for (const int fd : client_fds_) shutdown(fd, SHUT_RDWR);
    changed_.notify_all();
  }
  for (std::thread& t : clients_) t.join();
  for (const int fd : client_fds_) close(fd);
  close(listen_fd_);
}

void TcpStoreServer::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0 || stopping_) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    std::lock_guard lock(mutex_);
    client_fds_.push_back(fd);
    clients_.emplace_back([this, fd] { serve(fd); });
  }
}

void TcpStoreServer::serve(int fd) {
  std::vector<char> request;
  while (!stopping_ && recv_message(fd, request)) {
    Writer reply;
    try {
      Reader in(request);
      const auto operation = in.number<uint8_t>();
      std::unique_lock lock(mutex_);
      if (operation == kSet) {
        const std::string key = in.text();
        values_[key] = in.blob();
        changed_.notify_all();
        reply.number<uint8_t>(1);
      } else if (operation == kGet || operation == kWait) {
        const auto timeout = std::chrono::milliseconds(in.number<uint64_t>());
        std::vector<std::string> keys;
        const auto count = operation == kGet ? 1u : in.number<uint32_t>();
        for (uint32_t i = 0; i < count; ++i) keys.push_back(in.text());
        const bool present = changed_.wait_for(lock, timeout, [&] {
          if (stopping_) return true;
          for (const auto& k : keys)
            if (!values_.count(k)) return false;
          return true;
        }) && !stopping_;
        reply.number<uint8_t>(present ? 1 : 0);
        if (present && operation == kGet) {
          const std::vector<char>& value = values_[keys[0]];
          reply.blob(value.data(), value.size());
        }
      } else {
        return;  // not one of ours: drop the connection
      }
    } catch (const DistError&) {
      return;
    }
    if (!send_message(fd, reply.bytes)) return;
  }
}

TcpStore::TcpStore(const std::string& host, int port, int rank, std::chrono::milliseconds timeout)
    : rank_(rank), where_(host + ":" + std::to_string(port)), timeout_(timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last_error;
  while (fd_ < 0) {
    addrinfo* found = resolve(host, port, /*passive=*/false);
    for (addrinfo* a = found; a && fd_ < 0; a = a->ai_next) {
      const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
      } else {
        last_error = std::strerror(errno);
        close(fd);
      }
    }
    freeaddrinfo(found);
    if (fd_ >= 0) break;
    if (std::chrono::steady_clock::now() > deadline)
      throw DistError("rank " + std::to_string(rank) + ": rendezvous timed out: could not reach rank 0's store at " +
                      where_ + " within " + std::to_string(timeout.count() / 1000) + " s (" + last_error +
                      "; check MASTER_ADDR and MASTER_PORT, and that rank 0 started)");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const int on = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  // A server that stops answering (rank 0 stopped or gone) must not block a read for ever.
  timeval limit{};
  limit.tv_sec = static_cast<time_t>(timeout.count() / 1000 + 5);
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
}

TcpStore::~TcpStore() {
  if (fd_ >= 0) close(fd_);
}

std::vector<char> TcpStore::call(const std::vector<char>& request, const std::string& what) {
  std::lock_guard lock(mutex_);
  std::vector<char> reply;
  if (!send_message(fd_, request) || !recv_message(fd_, reply))
    throw DistError("rank " + std::to_string(rank_) + ": rendezvous " + what + " failed: lost the connection to rank " +
                    "0's store at " + where_ + " (" + std::strerror(errno) + ")");
  return reply;
}

void TcpStore::set(const std::string& key, const std::vector<char>& data) {
  Writer request;
  request.number<uint8_t>(kSet);
  request.text(key);
  request.blob(data.data(), data.size());
  call(request.bytes, "set of '" + key + "'");
}

std::vector<char> TcpStore::get(const std::string& key) {
  Writer request;
  request.number<uint8_t>(kGet);
  request.number<uint64_t>(static_cast<uint64_t>(timeout_.count()));
  request.text(key);
  const std::vector<char> reply = call(request.bytes, "get of '" + key + "'");
  Reader in(reply);
  if (!in.number<uint8_t>())
    throw DistError("rank " + std::to_string(rank_) + ": rendezvous timed out after " +
                    std::to_string(timeout_.count() / 1000) + " s waiting for '" + key +
                    "' (a rank did not start or stopped before joining)");
  return in.blob();
}

void TcpStore::wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) {
  Writer request;
  request.number<uint8_t>(kWait);
  request.number<uint64_t>(static_cast<uint64_t>(timeout.count()));
  request.number<uint32_t>(static_cast<uint32_t>(keys.size()));
  for (const auto& k : keys) request.text(k);
  const std::vector<char> reply = call(request.bytes, "wait");
  if (!Reader(reply).number<uint8_t>()) {
    std::string names;
    for (const auto& k : keys) names += (names.empty() ? "'" : ", '") + k + "'";
    throw DistError("rank " + std::to_string(rank_) + ": rendezvous timed out after " +
                    std::to_string(timeout.count() / 1000) + " s waiting for " + names +
                    " (a rank did not start or stopped before joining)");
  }
}

}  // namespace maskdet::dist
