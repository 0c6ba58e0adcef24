// Counts in messages, in good English: "1 box", "2 boxes", "1 warning", "0 bad samples".
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace maskdet::data {

// `noun` (singular; may be a phrase whose last word counts: "bad sample") after the count, plural
// unless the count is 1. The regular English plurals: box -> boxes, entry -> entries, step -> steps,
// and epoch -> epochs (its "ch" is a k, as in stomach, monarch).
inline std::string counted(size_t count, std::string_view noun) {
  std::string text = std::to_string(count) + " " + std::string(noun);
  if (count == 1 || noun.empty()) return text;
  const auto ends_with = [&](std::string_view tail) {
    return noun.size() >= tail.size() && noun.substr(noun.size() - tail.size()) == tail;
  };
  const bool vowel_before_y = noun.size() >= 2 && std::string_view("aeiou").find(noun[noun.size() - 2]) != std::string_view::npos;
  const bool hard_ch = ends_with("epoch") || ends_with("stomach") || ends_with("monarch");
  if (ends_with("s") || ends_with("x") || ends_with("z") || (ends_with("ch") && !hard_ch) || ends_with("sh"))
    return text + "es";
  if (ends_with("y") && !vowel_before_y) return text.substr(0, text.size() - 1) + "ies";
  return text + "s";
}

}  // namespace maskdet::data
