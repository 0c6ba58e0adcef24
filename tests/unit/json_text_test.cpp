// maskdet's JSON text rules over nlohmann/json (tensor/json_text.h): strict parsing with byte
// offsets and duplicate keys refused, and output that is valid UTF-8 JSON whatever the bytes,
// laid out for people when indented, with numbers that read back to the same bits.
#include "tensor/json_text.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace maskdet {
namespace {

using Json = nlohmann::ordered_json;

TEST(JsonText, ParsesEscapesIntegersAndKeepsMemberOrder) {
  const Json v = json::parse(R"( {"z": [1, -2, 9223372036854775807, 18446744073709551615],
                                  "s": "x\"\\\/\n\u00e9\ud83d\ude00", "o": {}, "a": 0.5} )");
  ASSERT_TRUE(v.is_object());
  std::vector<std::string> keys;
  for (const auto& [key, value] : v.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"z", "s", "o", "a"})) << "document order, not sorted";
  EXPECT_EQ(v["z"][1].get<int64_t>(), -2);
  EXPECT_EQ(v["z"][2].get<int64_t>(), INT64_MAX);
  EXPECT_TRUE(v["z"][3].is_number_unsigned());
  EXPECT_EQ(v["z"][3].get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(v["s"].get<std::string>(), "x\"\\/\n\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_TRUE(v["o"].empty());
  EXPECT_EQ(v["a"].get<double>(), 0.5);
  EXPECT_EQ(v.find("missing"), v.end());
  EXPECT_EQ(json::parse(json::dump(Json("a\x01\"b"))).get<std::string>(), "a\x01\"b");
}

TEST(JsonText, RejectsMalformedTextWithByteOffsets) {
  // The offset is that of the byte the parser stopped at: the end of the offending token.
  const auto error_at = [](const std::string& text) -> std::optional<size_t> {
    try {
      json::parse(text);
    } catch (const json::ParseError& e) {
      EXPECT_NE(std::string(e.what()).find(e.reason()), std::string::npos);
      EXPECT_EQ(e.reason().find("[json.exception"), std::string::npos) << e.reason();
      return e.byte();
    }
    ADD_FAILURE() << "parsed: " << text;
    return std::nullopt;
  };
  EXPECT_EQ(error_at(R"({"a":1,})"), 7u);  // trailing comma: a key was expected
  EXPECT_EQ(error_at(R"({"a":1 "b":2})"), 9u);
  EXPECT_EQ(error_at(R"(["abc)"), 5u);
  EXPECT_EQ(error_at("[01]"), 2u);
  EXPECT_EQ(error_at(R"(["\ud800"])"), 8u);  // a high surrogate alone
  EXPECT_EQ(error_at("{} x"), 3u);
  EXPECT_EQ(error_at(std::string(100, '[')), 100u);
  EXPECT_EQ(error_at(""), 0u);
  EXPECT_EQ(error_at("[\"a\x01\"]"), 3u);  // a raw control character
  try {
    json::parse(R"({"x" {"dtype":"F32"}})");
    ADD_FAILURE();
  } catch (const json::ParseError& e) {
    EXPECT_EQ(e.byte(), 5u);
    EXPECT_NE(e.reason().find("expected ':'"), std::string::npos) << e.reason();
    EXPECT_EQ(std::string(e.what()).rfind("JSON error at byte 5: ", 0), 0u) << e.what();
  }
}

TEST(JsonText, StringsMustBeStrictUtf8) {
  // Overlong, surrogate, above U+10FFFF, a lone continuation byte, Latin-1, a sequence cut short.
  for (const char* bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "m\xe4sk", "\xc3"}) {
    EXPECT_THROW(json::parse("[\"" + std::string(bad) + "\"]"), json::ParseError) << bad;
  }
  EXPECT_EQ(json::parse("[\"m\xc3\xa1scara\"]")[0].get<std::string>(), "m\xc3\xa1scara");
}

TEST(JsonText, RefusesDuplicateKeysNamingThem) {
  try {
    json::parse(R"({"a":1,"b":{"c":2},"a":3})");
    ADD_FAILURE() << "a duplicate key parsed";
  } catch (const json::ParseError& e) {
    EXPECT_FALSE(e.byte().has_value());
    EXPECT_EQ(e.reason(), "duplicate key \"a\"");
  }
  EXPECT_THROW(json::parse(R"({"o":{"k":1,"k":1}})"), json::ParseError);  // nested too
  // The same key in different objects is no duplicate.
  EXPECT_NO_THROW(json::parse(R"({"o":{"a":1},"a":2,"l":[{"a":1},{"a":2}]})"));
}

TEST(JsonText, RefusesNumbersBeyondADouble) {
  try {
    json::parse("[1e400]");
    ADD_FAILURE();
  } catch (const json::ParseError& e) {
    EXPECT_NE(e.reason().find("1e400"), std::string::npos) << e.reason();
  }
}

TEST(JsonText, IndentedOutputIsLaidOutForPeople) {
  Json doc = {{"a", -3}, {"list", {true, nullptr, "x"}}, {"empty", Json::object()}, {"none", Json::array()}};
  EXPECT_EQ(json::dump(doc, 2),
            "{\n  \"a\": -3,\n  \"list\": [\n    true,\n    null,\n    \"x\"\n  ],\n  \"empty\": {},\n"
            "  \"none\": []\n}");
  EXPECT_EQ(json::dump(doc), R"({"a":-3,"list":[true,null,"x"],"empty":{},"none":[]})");
}

TEST(JsonText, NumbersAreShortestRoundTripsAndNonFiniteIsNull) {
  EXPECT_EQ(json::dump(0.1), "0.1");
  EXPECT_EQ(json::dump(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(json::dump(2.0), "2.0");  // a double stays one when read back
  EXPECT_EQ(json::dump(1e-7), "1e-07");
  EXPECT_EQ(json::dump(static_cast<double>(0.9f)), "0.8999999761581421");  // a float's exact double
  EXPECT_EQ(json::dump(int64_t{-5}), "-5");
  EXPECT_EQ(json::dump(std::nan("")), "null");  // no JSON spelling
  EXPECT_EQ(json::dump(-INFINITY), "null");
  EXPECT_EQ(json::dump(Json({{"v", std::numeric_limits<double>::infinity()}})), R"({"v":null})");
  // Any double comes back with the same bits.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const double v = std::bit_cast<double>(rng());
    if (!std::isfinite(v)) continue;
    const double back = json::parse(json::dump(Json::array({v})))[0].get<double>();
    ASSERT_EQ(std::bit_cast<uint64_t>(back), std::bit_cast<uint64_t>(v)) << json::dump(v);
  }
}

TEST(JsonText, StringsAreEscaped) {
  EXPECT_EQ(json::dump(Json({{"say \"hi\"", "a\\b\nc"}}), 2), "{\n  \"say \\\"hi\\\"\": \"a\\\\b\\nc\"\n}");
  EXPECT_EQ(json::dump("\x01\t\x7f/"), "\"\\u0001\\t\x7f/\"");
}

TEST(JsonText, WritesValidUtf8WhateverTheBytes) {
  // Well-formed UTF-8 is kept as it is; bytes outside it become U+FFFD, keys included.
  EXPECT_EQ(json::dump("m\xc3\xa1scara \xF0\x9F\x98\x80"), "\"m\xc3\xa1scara \xF0\x9F\x98\x80\"");
  EXPECT_EQ(json::dump("m\xe4sk"), "\"m\xEF\xBF\xBDsk\"");
  EXPECT_EQ(json::dump("\xff\xfe"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(json::dump("\xc3"), "\"\xEF\xBF\xBD\"");  // a sequence cut short
  EXPECT_EQ(json::dump(Json({{"photo_\xff.jpg", 1}})), "{\"photo_\xEF\xBF\xBD.jpg\":1}");
  for (const char* bytes : {"m\xe4sk", "\xff\xfe", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80"})
    EXPECT_NO_THROW(json::parse(json::dump(bytes))) << "the output parses";
}

}  // namespace
}  // namespace maskdet
