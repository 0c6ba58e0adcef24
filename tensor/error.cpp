// Removing source positions from error messages (error.h).
#include "tensor/error.h"

#include <array>
#include <cctype>
#include <string_view>

namespace maskdet {

namespace {

// Whether `inside` (the text between the parentheses) is "<path>.<source extension>:<digits>".
bool is_source_position(std::string_view inside) {
  const size_t colon = inside.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == inside.size()) return false;
  for (size_t i = colon + 1; i < inside.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(inside[i]))) return false;
  const std::string_view file = inside.substr(0, colon);
  if (file.find_first_of(" ()") != std::string_view::npos) return false;
  static constexpr std::array<std::string_view, 6> kExtensions = {".cpp", ".h", ".hpp", ".cc", ".cu", ".cuh"};
  for (const std::string_view ext : kExtensions)
    if (file.size() > ext.size() && file.substr(file.size() - ext.size()) == ext) return true;
  return false;
}

}  // namespace

std::string without_source_locations(std::string message) {
  for (size_t open = message.find(" ("); open != std::string::npos; open = message.find(" (", open)) {
    const size_t close = message.find(')', open + 2);
    if (close != std::string::npos && is_source_position(std::string_view(message).substr(open + 2, close - open - 2)))
      message.erase(open, close + 1 - open);
    else
      open += 2;
  }
  return message;
}

}  // namespace maskdet
