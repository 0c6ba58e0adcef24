// Checking text for well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF), the encoding JSON requires (RFC 8259 section 8.1). Annotation text that goes
// into the JSON maskdet writes (class names) is checked here first, so a Latin-1 name is refused
// with its file and line instead of turning into U+FFFD in a report.
#pragma once
#include <cstddef>
#include <string_view>

namespace maskdet::data {

// The length of the well-formed UTF-8 sequence `s` starts with (1-4), or 0 when it does not start
// with one.
size_t utf8_sequence_length(std::string_view s);
bool is_valid_utf8(std::string_view s);

}  // namespace maskdet::data
