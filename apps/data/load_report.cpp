// LoadReport (load_options.h): counts everything, keeps only the first few messages so a
// data set with thousands of clipped boxes does not flood the log.
#include <sstream>

#include "apps/data/load_options.h"

namespace maskdet::data {

void LoadReport::skip(std::string reason) {
  ++skipped_;
  if (skip_reasons_.size() < max_kept_) skip_reasons_.push_back(std::move(reason));
}

void LoadReport::warn(std::string message) {
  ++warnings_;
  if (warning_messages_.size() < max_kept_) warning_messages_.push_back(std::move(message));
}

namespace {
void describe(std::ostream& os, size_t count, const char* what, const std::vector<std::string>& first) {
  os << count << ' ' << what;
  if (first.empty()) return;
  os << " (first " << first.size() << ":";
  for (const auto& m : first) os << "\n  " << m;
  os << ")";
}
}  // namespace

std::string LoadReport::summary() const {
  std::ostringstream os;
  if (skipped_) describe(os, skipped_, "bad samples skipped", skip_reasons_);
  if (skipped_ && warnings_) os << "\n";
  if (warnings_) describe(os, warnings_, "warnings", warning_messages_);
  return os.str();
}

}  // namespace maskdet::data
