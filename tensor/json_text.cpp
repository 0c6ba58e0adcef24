// JSON text by nlohmann/json with maskdet's two rules (json_text.h).
#include "tensor/json_text.h"

#include <set>
#include <vector>

namespace maskdet::json {

namespace {

using Json = nlohmann::ordered_json;

// nlohmann's message without its "[json.exception.parse_error.101] parse error at line 1,
// column 6: " prefix: the offset is reported in bytes, which is what a binary header needs.
std::string reason_of(const Json::exception& e) {
  std::string what = e.what();
  if (what.starts_with("[json.exception.")) what.erase(0, what.find("] ") + 2);
  if (what.starts_with("parse error")) {
    const size_t colon = what.find(": ");
    if (colon != std::string::npos) what.erase(0, colon + 2);
  }
  return what;
}

}  // namespace

Json parse(std::string_view text) {
  std::vector<std::set<std::string>> keys_of_open_objects;
  const Json::parser_callback_t refuse_duplicate_keys = [&](int, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      keys_of_open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      keys_of_open_objects.pop_back();
    } else if (event == Json::parse_event_t::key) {
      if (!keys_of_open_objects.back().insert(parsed.get<std::string>()).second)
        throw ParseError(std::nullopt, "duplicate key " + dump(parsed));
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), refuse_duplicate_keys);
  } catch (const Json::parse_error& e) {
    // e.byte counts the bytes read, the one that stopped the parser included.
    throw ParseError(e.byte > 0 ? e.byte - 1 : 0, reason_of(e));
  } catch (const Json::exception& e) {
    throw ParseError(std::nullopt, reason_of(e));  // a number beyond the range of a double
  }
}

std::string dump(const Json& value, int indent) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

}  // namespace maskdet::json
