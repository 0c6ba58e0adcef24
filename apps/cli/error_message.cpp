// Trimming the source position off error messages (error_message.h).
#include "apps/cli/error_message.h"

#include <cctype>

namespace maskdet::cli {

std::string without_source_location(std::string message) {
  if (message.empty() || message.back() != ')') return message;
  const size_t open = message.rfind(" (");
  const size_t colon = message.rfind(':');
  if (open == std::string::npos || colon == std::string::npos || colon < open) return message;
  for (size_t i = colon + 1; i + 1 < message.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(message[i]))) return message;
  if (message.find('.', open) > colon) return message;  // "(name:12)" without a file extension
  message.erase(open);
  return message;
}

}  // namespace maskdet::cli
