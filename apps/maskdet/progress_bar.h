// The per-epoch progress display of `maskdet train` on stderr, in the manner of Keras's
// progbar: "epoch 3/10 [=====>    ] 120/200  loss 0.8123  classification 0.51  regression 0.30
// 6.2 img/s  ETA 0:13". On a terminal one line is redrawn in place; otherwise (a log file, CI)
// a plain line is printed every `lines_per_epoch`-th of the epoch, so logs stay short.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace maskdet::app {

class ProgressBar {
 public:
  // interactive: redraw in place (stderr is a terminal).
  ProgressBar(std::string title, int64_t total_steps, bool interactive, int lines_per_epoch = 10,
              std::FILE* out = stderr);
  // Ends an open line, so a message printed after an interrupted epoch starts on its own.
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // After step `done` (1..total): the running values to show and the images seen so far.
  void update(int64_t done, const std::vector<std::pair<std::string, double>>& values, int64_t images);
  // Ends the line (interactive) so the epoch summary starts on its own.
  void finish();

  static bool stderr_is_terminal();

 private:
  std::string line(int64_t done, const std::vector<std::pair<std::string, double>>& values, int64_t images) const;

  std::string title_;
  int64_t total_;
  bool interactive_;
  int64_t print_every_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_;
  bool open_line_ = false;
};

// "1:02:03" or "2:03".
std::string format_duration(double seconds);

}  // namespace maskdet::app
