#include "tensor/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tensor/error.h"

namespace maskdet {

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  // Process id and a counter make the name unique across concurrent writers and threads.
  static std::atomic<uint64_t> serial{0};
  temp_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(serial++);
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  MASKDET_CHECK(fd_ >= 0, "cannot write ", path_, ": cannot create the temporary file ", temp_, ": ",
                std::strerror(errno));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicFileWriter::fail(const std::string& what, int error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_.c_str());
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
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  AtomicFileWriter writer(path);
  writer.write(bytes);
  writer.commit();
}

}  // namespace maskdet
