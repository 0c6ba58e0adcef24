// A small streaming JSON writer (RFC 8259); see json_writer.h.
#include "apps/eval/json_writer.h"

#include <charconv>
#include <cmath>

#include "tensor/error.h"
#include "tensor/json.h"

namespace maskdet::eval {

void JsonWriter::newline() {
  out_ += '\n';
  out_.append(2 * levels_.size(), ' ');
}

// Places the separator, indentation and key that must precede any value at this point.
void JsonWriter::before_value() {
  MASKDET_CHECK(!done_, "JsonWriter: the document is already complete");
  if (levels_.empty()) return;
  Level& level = levels_.back();
  if (level.is_object) {
    MASKDET_CHECK(level.key_pending, "JsonWriter: a value inside an object needs a key first");
    level.key_pending = false;
    return;
  }
  if (level.items++ > 0) out_ += ',';
  newline();
}

JsonWriter& JsonWriter::key(std::string_view name) {
  MASKDET_CHECK(!levels_.empty() && levels_.back().is_object, "JsonWriter: key '", name, "' outside an object");
  Level& level = levels_.back();
  MASKDET_CHECK(!level.key_pending, "JsonWriter: key '", name, "' follows a key without a value");
  if (level.items++ > 0) out_ += ',';
  newline();
  out_ += json::quote(name);
  out_ += ": ";
  level.key_pending = true;
  return *this;
}

void JsonWriter::open(bool is_object) {
  before_value();
  out_ += is_object ? '{' : '[';
  levels_.push_back({is_object, 0, false});
}

void JsonWriter::close(bool is_object) {
  MASKDET_CHECK(!levels_.empty() && levels_.back().is_object == is_object,
                "JsonWriter: ", is_object ? "end_object" : "end_array", " does not close the innermost open value");
  MASKDET_CHECK(!levels_.back().key_pending, "JsonWriter: the object ends after a key without a value");
  const bool empty = levels_.back().items == 0;
  levels_.pop_back();
  if (!empty) newline();
  out_ += is_object ? '}' : ']';
  done_ = levels_.empty();
}

JsonWriter& JsonWriter::scalar(std::string_view text) {
  before_value();
  out_ += text;
  done_ = levels_.empty();
  return *this;
}

JsonWriter& JsonWriter::number(double v) {
  if (!std::isfinite(v)) return null();
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  MASKDET_CHECK(ec == std::errc(), "JsonWriter: cannot format ", v);
  return scalar(std::string_view(buffer, end - buffer));
}

JsonWriter& JsonWriter::number(std::optional<double> v) { return v ? number(*v) : null(); }
JsonWriter& JsonWriter::integer(int64_t v) { return scalar(std::to_string(v)); }
JsonWriter& JsonWriter::string(std::string_view s) { return scalar(json::quote(s)); }
JsonWriter& JsonWriter::boolean(bool v) { return scalar(v ? "true" : "false"); }
JsonWriter& JsonWriter::null() { return scalar("null"); }

std::string JsonWriter::str() const {
  MASKDET_CHECK(done_, "JsonWriter: the document is incomplete");
  return out_ + '\n';
}

}  // namespace maskdet::eval
