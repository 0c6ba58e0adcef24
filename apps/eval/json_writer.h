// A small streaming JSON writer (RFC 8259) for the evaluation report: objects, arrays, strings,
// integers and doubles, indented two spaces. The core's tensor/json.h only reads JSON, and
// integers at that; this is its writing counterpart for reports people and scripts read.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace maskdet::eval {

class JsonWriter {
 public:
  // clang-format off
  JsonWriter& begin_object() { open(true); return *this; }
  JsonWriter& end_object() { close(true); return *this; }
  JsonWriter& begin_array() { open(false); return *this; }
  JsonWriter& end_array() { close(false); return *this; }
  // clang-format on
  // Inside an object: the name of the next value.
  JsonWriter& key(std::string_view name);

  // Doubles in their shortest form that reads back to the same bits; NaN and infinities have
  // no JSON spelling and are written as null.
  JsonWriter& number(double v);
  JsonWriter& number(std::optional<double> v);  // null when absent
  JsonWriter& integer(int64_t v);
  JsonWriter& string(std::string_view s);
  JsonWriter& boolean(bool v);
  JsonWriter& null();

  // The document; throws maskdet::Error unless exactly one complete value was written.
  std::string str() const;

 private:
  struct Level {
    bool is_object = false;
    int64_t items = 0;
    bool key_pending = false;
  };
  void before_value();
  JsonWriter& scalar(std::string_view text);  // a value already spelled as JSON
  void open(bool is_object);
  void close(bool is_object);
  void newline();

  std::string out_;
  std::vector<Level> levels_;
  bool done_ = false;
};

}  // namespace maskdet::eval
