// JSON text in and out of maskdet (RFC 8259), by nlohmann/json (https://json.nlohmann.me). The
// documents are nlohmann::ordered_json, which keeps members in the order they were written or
// read: the files people read list their keys in a chosen order, and a safetensors header lists
// its tensors in file order. What this adds are the two rules every JSON maskdet reads or writes
// follows, so they are the same everywhere:
// - parse: strict RFC 8259, UTF-8 checked; an object naming a key twice is refused (nlohmann
//   would keep the last one silently, and a header naming a tensor twice is corrupt, not a
//   choice); the error says at which byte.
// - dump: bytes that are not UTF-8 (a Linux file name can be any bytes) are written as U+FFFD
//   (nlohmann would throw), so the output is valid JSON whatever the input. NaN and infinities
//   have no JSON spelling and are written as null (nlohmann's choice, and Python's json reads it).
#pragma once
#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "tensor/error.h"

namespace maskdet::json {

// A parse failure: `byte` is the offset in the text of the byte the parser stopped at (absent
// for a duplicate key, which is found after its position is gone), `reason` says what was wrong.
class ParseError : public Error {
 public:
  ParseError(std::optional<size_t> byte, const std::string& reason)
      : Error("JSON error" + (byte ? " at byte " + std::to_string(*byte) : std::string()) + ": " + reason),
        byte_(byte),
        reason_(reason) {}
  std::optional<size_t> byte() const { return byte_; }
  const std::string& reason() const { return reason_; }

 private:
  std::optional<size_t> byte_;
  std::string reason_;
};

// One JSON value filling the whole text (surrounding whitespace allowed). Throws ParseError.
nlohmann::ordered_json parse(std::string_view text);

// `value` as JSON text: compact on one line when indent < 0 ({"a":1,"b":[2.5]}: JSON Lines,
// safetensors headers), else one member or item per line, `indent` spaces per level, and
// "key": value. Doubles are written in a shortest form that reads back to the same bits, with a
// ".0" when integral (2.0). No trailing newline.
std::string dump(const nlohmann::ordered_json& value, int indent = -1);

}  // namespace maskdet::json
