// Writing files atomically: bytes go to a temporary file beside the target, are flushed to disk,
// and the temporary is renamed over the target (rename(2) is atomic within a file system). A
// reader, or a run that crashes midway, sees the old file or the new one, never half of one —
// the rule for snapshots, weights, caches, reports and plots.
// A temporary is named <target>.tmp.<pid>.<n>. The writer removes it when it fails, and on
// SIGTERM or SIGINT (a handler is installed with the first writer, where those signals still
// have their default action; it removes the process's temporaries and then lets the signal end
// the process as it would have). Only kill -9 or a crash leave one behind, and
// remove_stale_temporaries clears those on a later start.
#pragma once
#include <atomic>
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
  void release_slot();
  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
  std::atomic<const char*>* slot_ = nullptr;  // where the signal handler finds temp_
};

// The whole file at once.
void write_file_atomically(const std::string& path, std::string_view bytes);

// Removes the temporaries in `dir` (not its subfolders) whose writer no longer runs: no process
// has its pid, or the process that has it started after the file was last written (the pid was
// reused). Returns how many were removed; a folder that does not exist has none.
size_t remove_stale_temporaries(const std::string& dir);

}  // namespace maskdet
