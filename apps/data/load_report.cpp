// LoadReport (load_options.h): counts everything, keeps only the first few messages so a
// data set with thousands of clipped boxes does not flood the log. The messages are for the
// user, so they are kept without the source positions of the errors they came from.
#include <sstream>

#include "apps/data/counted.h"
#include "apps/data/load_options.h"
#include "tensor/error.h"

namespace maskdet::data {

void LoadReport::skip(std::string reason) {
  ++skipped_;
  if (skip_reasons_.size() < max_kept_) skip_reasons_.push_back(without_source_locations(std::move(reason)));
}

void LoadReport::warn(std::string message) {
  ++warnings_;
  if (warning_messages_.size() < max_kept_) warning_messages_.push_back(without_source_locations(std::move(message)));
}

namespace {
// "2 warnings:" and each, or "9 warnings (the first 5):" and those.
void describe(std::ostream& os, const std::string& counted_what, size_t count, const std::vector<std::string>& first) {
  os << counted_what;
  if (first.empty()) return;
  if (first.size() < count) os << " (the first " << first.size() << ")";
  os << ":";
  for (const auto& m : first) os << "\n  " << m;
}
}  // namespace

std::string LoadReport::summary() const {
  std::ostringstream os;
  if (skipped_) describe(os, counted(skipped_, "bad sample") + " skipped", skipped_, skip_reasons_);
  if (skipped_ && warnings_) os << "\n";
  if (warnings_) describe(os, counted(warnings_, "warning"), warnings_, warning_messages_);
  return os.str();
}

}  // namespace maskdet::data
