// Strict reading of the text fields annotation files are made of: whole-field numbers (no
// trailing junk, no NaN or infinity, which std::stod would let through), CSV lines split as
// Python's csv module does for keras-retinanet's files (RFC 4180 quoting: "a,b" is one field,
// "" inside quotes is a quote), and text that must be UTF-8 (it ends up in JSON). Lines are read
// as editors write them: "\n" or "\r\n", and a UTF-8 byte-order mark (Windows editors put one
// first) is not part of the first line.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace maskdet::data {

std::string_view trim(std::string_view text);

// The number the whole field spells (surrounding spaces allowed), or nullopt.
std::optional<double> parse_number(std::string_view field);
std::optional<int64_t> parse_integer(std::string_view field);
// A pixel coordinate: a number of magnitude at most 1e9, so it converts to float safely.
std::optional<float> parse_coordinate(std::string_view field);

// The fields of one line; nullopt when a quoted field is not closed.
std::optional<std::vector<std::string>> split_csv_line(std::string_view line);

// `text` without a leading UTF-8 byte-order mark (EF BB BF).
std::string_view without_byte_order_mark(std::string_view text);

// Calls f(line_number from 1, line without its "\n" or "\r\n") for each line of text (after
// a byte-order mark).
template <class F>
void for_each_line(std::string_view text, F&& f) {
  text = without_byte_order_mark(text);
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(++line_number, line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

// The whole file as bytes; throws maskdet::Error naming `what` and the path when it is a folder
// or unreadable.
std::string read_text_file(const std::string& path, const char* what);

// Throws maskdet::Error "<where>: <what> '<text>' is not UTF-8 ..." unless `text` is well-formed
// UTF-8; the message shows the offending bytes as \xHH.
void require_utf8(std::string_view text, const std::string& where, const char* what);

}  // namespace maskdet::data
