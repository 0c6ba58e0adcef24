// TcpStore: the key-value store the ranks of a run meet through, as PyTorch's TCPStore: rank 0
// serves it at MASTER_ADDR:MASTER_PORT, every rank (rank 0 too) is a client. It implements
// gloo::rendezvous::Store, so Gloo's connectFullMesh exchanges the ranks' TCP addresses through
// it; it carries nothing else (Debian's Gloo has file, hash and Redis stores, none over TCP).
// Every call has a deadline: a rank that never comes makes the others fail with a message that
// names the key they waited for instead of waiting for ever.
#pragma once
#include <gloo/rendezvous/store.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace maskdet::dist {

// The server side, run by rank 0: one thread accepting, one per connected client.
class TcpStoreServer {
 public:
  // Listens on host:port (port 0: any free one, see port()).
  TcpStoreServer(const std::string& host, int port);
  ~TcpStoreServer();
  TcpStoreServer(const TcpStoreServer&) = delete;
  TcpStoreServer& operator=(const TcpStoreServer&) = delete;
  int port() const { return port_; }

 private:
  void accept_loop();
  void serve(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;  // guards the fields below
  std::condition_variable changed_;
  std::map<std::string, std::vector<char>> values_;
  std::vector<int> client_fds_;
  std::vector<std::thread> clients_;
};

class TcpStore : public gloo::rendezvous::Store {
 public:
  // Connects to host:port, retrying until `timeout` (the server may not be up yet). `rank` only
  // names this process in errors.
  TcpStore(const std::string& host, int port, int rank, std::chrono::milliseconds timeout);
  ~TcpStore() override;

  void set(const std::string& key, const std::vector<char>& data) override;
  // Waits (up to the timeout) for the key to be set.
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override { wait(keys, timeout_); }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

 private:
  std::vector<char> call(const std::vector<char>& request, const std::string& what);

  int fd_ = -1;
  int rank_;
  std::string where_;  // host:port, for messages
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;  // one request at a time on the connection
};

}  // namespace maskdet::dist
