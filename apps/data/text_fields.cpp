// Field parsing for annotation files (text_fields.h). std::from_chars is used because it is
// locale-independent and reports how much of the field it consumed.
#include "apps/data/text_fields.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/data/utf8.h"
#include "tensor/error.h"

namespace maskdet::data {

std::string_view trim(std::string_view text) {
  const char* spaces = " \t\r\n";
  const size_t begin = text.find_first_not_of(spaces);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(spaces) - begin + 1);
}

namespace {
// from_chars refuses a leading '+', which people do write.
std::string_view without_plus(std::string_view field) {
  field = trim(field);
  if (field.size() > 1 && field.front() == '+' && field[1] != '-') field.remove_prefix(1);
  return field;
}
}  // namespace

std::optional<double> parse_number(std::string_view field) {
  field = without_plus(field);
  if (field.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc() || end != field.data() + field.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<int64_t> parse_integer(std::string_view field) {
  field = without_plus(field);
  if (field.empty()) return std::nullopt;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc() || end != field.data() + field.size()) return std::nullopt;
  return value;
}

std::optional<float> parse_coordinate(std::string_view field) {
  const auto value = parse_number(field);
  if (!value || std::abs(*value) > 1e9) return std::nullopt;
  return static_cast<float>(*value);
}

std::optional<std::vector<std::string>> split_csv_line(std::string_view line) {
  std::vector<std::string> fields(1);
  size_t i = 0;
  while (i <= line.size()) {
    std::string& field = fields.back();
    if (i < line.size() && line[i] == '"' && field.empty()) {
      // A quoted field runs to the next lone quote; what follows it up to the comma is kept,
      // as Python's csv module does.
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        field += line[i++];
      }
      if (!closed) return std::nullopt;
    }
    const size_t comma = line.find(',', i);
    field += line.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i);
    if (comma == std::string_view::npos) break;
    fields.emplace_back();
    i = comma + 1;
  }
  return fields;
}

std::string_view without_byte_order_mark(std::string_view text) {
  constexpr std::string_view kMark = "\xEF\xBB\xBF";
  if (text.substr(0, kMark.size()) == kMark) text.remove_prefix(kMark.size());
  return text;
}

std::string read_text_file(const std::string& path, const char* what) {
  // An ifstream opens a folder without complaint and reads nothing from it, which would pass for
  // an empty file.
  std::error_code ec;
  MASKDET_CHECK(!std::filesystem::is_directory(path, ec), "the ", what, " ", path, " is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  MASKDET_CHECK(in, "cannot open the ", what, " ", path);
  std::ostringstream text;
  text << in.rdbuf();
  MASKDET_CHECK(!in.bad(), "cannot read the ", what, " ", path);
  return text.str();
}

void require_utf8(std::string_view text, const std::string& where, const char* what) {
  if (is_valid_utf8(text)) return;
  std::string shown;
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_sequence_length(text.substr(i));
    if (n > 0) {
      shown.append(text.substr(i, n));
      i += n;
      continue;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[i++])));
    shown += hex;
  }
  MASKDET_FAIL(where, ": ", what, " '", shown, "' is not UTF-8 (save the file as UTF-8: this text goes into JSON)");
}

}  // namespace maskdet::data
