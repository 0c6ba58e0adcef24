// A small JSON reader and string quoting, enough for safetensors headers (RFC 8259 subset):
// objects, arrays, strings with every escape (\uXXXX and surrogate pairs become UTF-8) and
// integers. Fractions, exponents, true/false/null are rejected by name, so a header that
// uses them fails with a clear message rather than a wrong value.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tensor/error.h"

namespace maskdet::json {

// A parse failure: `position` is the byte offset in the text, `reason` says what was wrong.
class ParseError : public Error {
 public:
  ParseError(size_t position, const std::string& reason)
      : Error("JSON error at byte " + std::to_string(position) + ": " + reason),
        position_(position),
        reason_(reason) {}
  size_t position() const { return position_; }
  const std::string& reason() const { return reason_; }

 private:
  size_t position_;
  std::string reason_;
};

class Value {
 public:
  enum class Kind { Integer, String, Array, Object };
  using Member = std::pair<std::string, Value>;

  static Value integer(int64_t v);
  static Value string(std::string s);
  static Value array(std::vector<Value> items);
  static Value object(std::vector<Member> members);  // keys unique, in document order

  Kind kind() const { return kind_; }
  bool is_integer() const { return kind_ == Kind::Integer; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }

  // Accessors throw maskdet::Error when the kind differs.
  int64_t as_integer() const;
  const std::string& as_string() const;
  const std::vector<Value>& as_array() const;
  const std::vector<Member>& as_object() const;
  // The member named key, or nullptr (objects only).
  const Value* find(std::string_view key) const;

 private:
  Kind kind_ = Kind::Integer;
  int64_t integer_ = 0;
  std::string string_;
  std::vector<Value> items_;
  std::vector<Member> members_;
};

const char* kind_name(Value::Kind kind);

// Parses one JSON value filling the whole text (surrounding whitespace allowed).
// Throws ParseError. Nesting deeper than 64 levels is refused.
Value parse(std::string_view text);

// s as a JSON string literal, quotes included: control characters escaped, UTF-8 kept, and
// each byte that is not part of well-formed UTF-8 written as U+FFFD (the replacement
// character), so the literal is valid JSON whatever the bytes (a Linux file name may be any).
// Text that must survive the round trip exactly is checked with is_valid_utf8 before it gets here.
std::string quote(std::string_view s);

// The length of the well-formed UTF-8 sequence `s` starts with (1-4), or 0 when it does not start
// with one (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence_length(std::string_view s);
bool is_valid_utf8(std::string_view s);

}  // namespace maskdet::json
