// Drawing the progress line (progress_bar.h).
#include "apps/maskdet/progress_bar.h"

#include <algorithm>
#include <cmath>
#include <unistd.h>

namespace maskdet::app {

namespace {
constexpr int kBarWidth = 20;
}

std::string format_duration(double seconds) {
  const int64_t total = std::max<int64_t>(0, std::llround(seconds));
  char buffer[32];
  if (total >= 3600)
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", static_cast<long long>(total / 3600),
                  static_cast<long long>(total / 60 % 60), static_cast<long long>(total % 60));
  else
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  return buffer;
}

ProgressBar::ProgressBar(std::string title, int64_t total_steps, bool interactive, int lines_per_epoch, std::FILE* out)
    : title_(std::move(title)),
      total_(std::max<int64_t>(total_steps, 1)),
      interactive_(interactive),
      print_every_(std::max<int64_t>(1, total_ / std::max(lines_per_epoch, 1))),
      out_(out),
      start_(std::chrono::steady_clock::now()) {}

bool ProgressBar::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

std::string ProgressBar::line(int64_t done, const std::vector<std::pair<std::string, double>>& values,
                              int64_t images) const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string text = title_ + " ";
  if (interactive_) {
    const int filled = static_cast<int>(kBarWidth * done / total_);
    std::string bar(kBarWidth, ' ');
    std::fill(bar.begin(), bar.begin() + filled, '=');
    if (filled < kBarWidth) bar[filled] = '>';
    text += "[" + bar + "] ";
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%lld/%lld", static_cast<long long>(done), static_cast<long long>(total_));
  text += buffer;
  for (const auto& [name, value] : values) {
    std::snprintf(buffer, sizeof buffer, "  %s %.4f", name.c_str(), value);
    text += buffer;
  }
  std::snprintf(buffer, sizeof buffer, "  %.1f img/s", elapsed > 0 ? static_cast<double>(images) / elapsed : 0.0);
  text += buffer;
  const double eta = done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(total_ - done) : 0;
  text += (done < total_ ? "  ETA " + format_duration(eta) : "  " + format_duration(elapsed));
  return text;
}

void ProgressBar::update(int64_t done, const std::vector<std::pair<std::string, double>>& values, int64_t images) {
  if (interactive_) {
    // \33[K clears what a longer previous line left.
    std::fprintf(out_, "\r%s\33[K", line(done, values, images).c_str());
    open_line_ = true;
  } else if (done % print_every_ == 0 || done == total_) {
    std::fprintf(out_, "%s\n", line(done, values, images).c_str());
  }
  std::fflush(out_);
}

void ProgressBar::finish() {
  if (open_line_) std::fputc('\n', out_);
  open_line_ = false;
  std::fflush(out_);
}

}  // namespace maskdet::app
