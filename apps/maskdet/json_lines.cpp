// Folding JSON onto one line (json_lines.h).
#include "apps/maskdet/json_lines.h"

namespace maskdet::app {

std::string one_line(const std::string& document) {
  std::string out;
  out.reserve(document.size());
  bool after_newline = false;
  for (const char c : document) {
    if (c == '\n') {
      after_newline = true;
      continue;
    }
    if (after_newline && c == ' ') continue;
    after_newline = false;
    out += c;
  }
  return out;
}

}  // namespace maskdet::app
