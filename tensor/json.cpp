// The JSON subset reader (see tensor/json.h): a recursive-descent parser over the bytes,
// reporting the byte position of the first problem.
#include "tensor/json.h"

#include <cstdio>

namespace maskdet::json {

Value Value::integer(int64_t v) {
  Value out;
  out.kind_ = Kind::Integer;
  out.integer_ = v;
  return out;
}
Value Value::string(std::string s) {
  Value out;
  out.kind_ = Kind::String;
  out.string_ = std::move(s);
  return out;
}
Value Value::array(std::vector<Value> items) {
  Value out;
  out.kind_ = Kind::Array;
  out.items_ = std::move(items);
  return out;
}
Value Value::object(std::vector<Member> members) {
  Value out;
  out.kind_ = Kind::Object;
  out.members_ = std::move(members);
  return out;
}

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::Integer: return "integer";
    case Value::Kind::String: return "string";
    case Value::Kind::Array: return "array";
    case Value::Kind::Object: return "object";
  }
  return "?";
}

namespace {
void expect_kind(const Value& v, Value::Kind kind) {
  MASKDET_CHECK(v.kind() == kind, "JSON: expected ", kind_name(kind), ", got ", kind_name(v.kind()));
}
}  // namespace

int64_t Value::as_integer() const {
  expect_kind(*this, Kind::Integer);
  return integer_;
}
const std::string& Value::as_string() const {
  expect_kind(*this, Kind::String);
  return string_;
}
const std::vector<Value>& Value::as_array() const {
  expect_kind(*this, Kind::Array);
  return items_;
}
const std::vector<Value::Member>& Value::as_object() const {
  expect_kind(*this, Kind::Object);
  return members_;
}
const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : as_object())
    if (k == key) return &v;
  return nullptr;
}

namespace {

constexpr int kMaxDepth = 64;

// The two-character escapes: {letter after the backslash, character it stands for}.
constexpr std::pair<char, char> kShortEscapes[] = {{'"', '"'},  {'\\', '\\'}, {'b', '\b'}, {'f', '\f'},
                                                   {'n', '\n'}, {'r', '\r'},   {'t', '\t'}};

const char* unescaped(char letter) {
  for (const auto& e : kShortEscapes)
    if (e.first == letter) return &e.second;
  return nullptr;
}

const char* escape_letter(char c) {
  for (const auto& e : kShortEscapes)
    if (e.second == c) return &e.first;
  return nullptr;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Value parse_document() {
    skip_whitespace();
    Value v = parse_value(0);
    skip_whitespace();
    if (pos_ != text_.size()) fail("unexpected data after the top-level value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const { throw ParseError(pos_, reason); }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  // A printable description of the byte at pos_ for messages.
  std::string here() const {
    if (at_end()) return "end of text";
    const unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf;
  }

  void skip_whitespace() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  void expect(char c) {
    if (peek() != c || at_end()) fail(std::string("expected '") + c + "', found " + here());
    ++pos_;
  }

  Value parse_value(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    switch (peek()) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return Value::string(parse_string());
      case 't':
      case 'f':
      case 'n': fail("true, false and null are not supported here");
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return Value::integer(parse_integer());
        fail("expected a value, found " + here());
    }
  }

  // open, items separated by commas, close; parse_item reads one item where it stands.
  template <class ParseItem>
  void parse_sequence(char open, char close, const char* what, const ParseItem& parse_item) {
    expect(open);
    skip_whitespace();
    if (peek() == close) {
      ++pos_;
      return;
    }
    while (true) {
      skip_whitespace();
      parse_item();
      skip_whitespace();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() == close) {
        ++pos_;
        return;
      } else {
        fail(std::string("expected ',' or '") + close + "' in " + what + ", found " + here());
      }
    }
  }

  Value parse_object(int depth) {
    std::vector<Value::Member> members;
    parse_sequence('{', '}', "an object", [&] {
      if (peek() != '"') fail("expected a string key, found " + here());
      const size_t key_pos = pos_;
      std::string key = parse_string();
      for (const auto& m : members)
        if (m.first == key) throw ParseError(key_pos, "duplicate key " + quote(key));
      skip_whitespace();
      expect(':');
      skip_whitespace();
      Value v = parse_value(depth + 1);
      members.emplace_back(std::move(key), std::move(v));
    });
    return Value::object(std::move(members));
  }

  Value parse_array(int depth) {
    std::vector<Value> items;
    parse_sequence('[', ']', "an array", [&] { items.push_back(parse_value(depth + 1)); });
    return Value::array(std::move(items));
  }

  int64_t parse_integer() {
    const size_t start = pos_;
    const bool negative = peek() == '-';
    if (negative) ++pos_;
    if (!(peek() >= '0' && peek() <= '9') || at_end()) fail("expected a digit, found " + here());
    if (peek() == '0' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' && text_[pos_ + 1] <= '9')
      fail("leading zeros are not allowed");
    // Accumulate as a negative number: its range includes INT64_MIN.
    int64_t value = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      const int digit = peek() - '0';
      if (value < (INT64_MIN + digit) / 10) {
        pos_ = start;
        fail("integer out of the 64-bit range");
      }
      value = value * 10 - digit;
      ++pos_;
    }
    if (peek() == '.' || peek() == 'e' || peek() == 'E') fail("only integers are supported, found " + here());
    if (!negative) {
      if (value == INT64_MIN) {
        pos_ = start;
        fail("integer out of the 64-bit range");
      }
      value = -value;
    }
    return value;
  }

  uint32_t parse_hex4() {
    if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else fail("bad hex digit in \\u escape: " + here());
      ++pos_;
    }
    return v;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("unescaped control character in a string: " + here());
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      if (at_end()) fail("unterminated escape");
      const char e = text_[pos_++];
      if (const char* c = unescaped(e)) {
        out += *c;
        continue;
      }
      switch (e) {
        case '/': out += '/'; break;  // may be escaped, never needs to be
        case 'u': {
          uint32_t cp = parse_hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {
            // A high surrogate must be followed by \u and a low one.
            if (pos_ + 2 > text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u')
              fail("high surrogate without a following low surrogate");
            pos_ += 2;
            const uint32_t low = parse_hex4();
            if (low < 0xDC00 || low >= 0xE000) fail("high surrogate followed by a non-low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            fail("lone low surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default: --pos_; fail("unknown escape \\" + here());
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Value parse(std::string_view text) { return Parser(text).parse_document(); }

size_t utf8_sequence_length(std::string_view s) {
  if (s.empty()) return 0;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) length = 2;
  else if (lead == 0xE0) length = 3, low = 0xA0;  // no overlong forms
  else if (lead == 0xED) length = 3, high = 0x9F;  // no surrogates
  else if (lead >= 0xE1 && lead <= 0xEF) length = 3;
  else if (lead == 0xF0) length = 4, low = 0x90;
  else if (lead == 0xF4) length = 4, high = 0x8F;  // nothing above U+10FFFF
  else if (lead >= 0xF1 && lead <= 0xF3) length = 4;
  else return 0;
  if (s.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  return length;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      const size_t n = utf8_sequence_length(s.substr(i));
      if (n == 0) {
        out += "\\ufffd";
      } else {
        out.append(s.substr(i, n));
        i += n - 1;
      }
    } else if (const char* letter = escape_letter(c)) {
      out += '\\';
      out += *letter;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace maskdet::json
