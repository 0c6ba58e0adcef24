#include "tensor/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "tensor/error.h"

namespace maskdet {

namespace {

// The temporaries being written now, for the signal handler: it may only read lock-free atomics
// and call async-signal-safe functions (unlink, signal, raise), so the paths sit in fixed slots.
// A writer beyond the last slot goes unregistered: its temporary is then left to
// remove_stale_temporaries.
constexpr size_t kSlots = 64;
std::atomic<const char*> g_live_temporaries[kSlots];
static_assert(std::atomic<const char*>::is_always_lock_free);

void remove_live_temporaries_and_die(int signal_number) {
  for (auto& slot : g_live_temporaries)
    if (const char* path = slot.load()) ::unlink(path);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

void install_signal_cleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const int signal_number : {SIGTERM, SIGINT}) {
      struct sigaction current {};
      // A program that handles or ignores the signal itself (nohup) keeps its choice.
      if (::sigaction(signal_number, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) continue;
      struct sigaction cleanup {};
      cleanup.sa_handler = remove_live_temporaries_and_die;
      sigemptyset(&cleanup.sa_mask);
      ::sigaction(signal_number, &cleanup, nullptr);
    }
  });
}

std::atomic<const char*>* register_temporary(const char* path) {
  for (auto& slot : g_live_temporaries) {
    const char* empty = nullptr;
    if (slot.compare_exchange_strong(empty, path)) return &slot;
  }
  return nullptr;
}

// When the process `pid` started, from /proc/<pid>/stat (field 22, clock ticks after boot) and
// the boot time in /proc/stat; nullopt when unknown.
std::optional<std::chrono::system_clock::time_point> process_start(long pid) {
  std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const size_t name_end = stat.rfind(')');  // the command name in parentheses may hold spaces
  if (name_end == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(name_end + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {}
  std::ifstream system_stat("/proc/stat");
  long long boot_seconds = -1;
  for (std::string key; system_stat >> key;)
    if (key == "btime") {
      system_stat >> boot_seconds;
      break;
    }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  if (!fields || boot_seconds < 0 || ticks <= 0) return std::nullopt;
  char* end = nullptr;
  const double start_ticks = std::strtod(field.c_str(), &end);
  if (end == field.c_str()) return std::nullopt;
  const double seconds = static_cast<double>(boot_seconds) + start_ticks / static_cast<double>(ticks);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(seconds)));
}

// The writer's pid in "<target>.tmp.<pid>.<n>", or -1 when the name is not a temporary's.
long temporary_writer(const std::string& name) {
  const size_t tmp = name.rfind(".tmp.");
  if (tmp == std::string::npos || tmp == 0) return -1;
  const std::string tail = name.substr(tmp + 5);
  const size_t dot = tail.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == tail.size()) return -1;
  if (tail.find_first_not_of("0123456789.") != std::string::npos || tail.find('.', dot + 1) != std::string::npos)
    return -1;
  if (dot > 9) return 0x7fffffff;  // more digits than any pid: no process has it
  return std::stol(tail.substr(0, dot));
}

bool writer_is_gone(long pid, const std::filesystem::path& file) {
  if (pid <= 0 || pid > 0x3fffffff) return true;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true;
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) return false;
  const auto start = process_start(pid);
  if (!start) return false;
  const auto written = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(info.st_mtim.tv_sec) + std::chrono::nanoseconds(info.st_mtim.tv_nsec)));
  // The boot time is whole seconds: only a file older than its pid's process by more than that
  // was surely written by an earlier process.
  return written < *start - std::chrono::seconds(2);
}

}  // namespace

size_t remove_stale_temporaries(const std::string& dir) {
  size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const long pid = temporary_writer(entry.path().filename().string());
    if (pid < 0 || pid == static_cast<long>(::getpid()) || !writer_is_gone(pid, entry.path())) continue;
    if (std::filesystem::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  // Process id and a counter make the name unique across concurrent writers and threads.
  static std::atomic<uint64_t> serial{0};
  temp_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(serial++);
  // Registered before it exists: a signal right after the open must find it.
  install_signal_cleanup();
  slot_ = register_temporary(temp_.c_str());
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int error = errno;
    release_slot();
    MASKDET_FAIL("cannot write ", path_, ": cannot create the temporary file ", temp_, ": ", std::strerror(error));
  }
}

void AtomicFileWriter::release_slot() {
  // After the rename or unlink: a signal in between unlinks a path that is gone, which is harmless.
  if (slot_) slot_->store(nullptr);
  slot_ = nullptr;
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
  release_slot();
}

void AtomicFileWriter::fail(const std::string& what, int error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_.c_str());
  release_slot();
  MASKDET_FAIL("cannot write ", path_, ": ", what, ": ", std::strerror(error));
}

void AtomicFileWriter::write(const void* data, size_t nbytes) {
  MASKDET_CHECK(fd_ >= 0 && !committed_, "AtomicFileWriter: write to ", path_, " after commit or failure");
  const char* p = static_cast<const char*>(data);
  while (nbytes > 0) {
    const ssize_t n = ::write(fd_, p, nbytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("writing " + temp_ + " failed", errno);
    }
    p += n;
    nbytes -= static_cast<size_t>(n);
  }
}

void AtomicFileWriter::commit() {
  MASKDET_CHECK(fd_ >= 0 && !committed_, "AtomicFileWriter: commit of ", path_, " twice or after a failure");
  if (::fsync(fd_) != 0) fail("flushing " + temp_ + " failed", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("closing " + temp_ + " failed", errno);
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) fail("renaming " + temp_ + " over it failed", errno);
  committed_ = true;
  release_slot();
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  AtomicFileWriter writer(path);
  writer.write(bytes);
  writer.commit();
}

}  // namespace maskdet
