// Writing files atomically: bytes go to a temporary file beside the target, are flushed to disk,
// and the temporary is renamed over the target (rename(2) is atomic within a file system). A
// reader, or a run that crashes midway, sees the old file or the new one, never half of one —
// the rule for snapshots, weights, caches, reports and plots.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace maskdet {

class AtomicFileWriter {
 public:
  // Creates the temporary file; throws maskdet::Error naming both paths and the system's reason.
  explicit AtomicFileWriter(std::string path);
  // Removes the temporary file unless commit() succeeded.
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t nbytes);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  // fsync, close, rename over the target. After an error nothing has replaced the target.
  void commit();

 private:
  [[noreturn]] void fail(const std::string& what, int error);
  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

// The whole file at once.
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace maskdet
