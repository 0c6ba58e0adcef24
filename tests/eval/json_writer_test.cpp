// The evaluation report's JSON writer (apps/eval/json_writer.h): layout, number spelling,
// escaping, and refusal of malformed documents.
#include "apps/eval/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tensor/error.h"

namespace maskdet::eval {
namespace {

TEST(JsonWriter, NestedValuesAreIndented) {
  JsonWriter w;
  w.begin_object().key("a").integer(-3).key("list").begin_array().boolean(true).null().string("x").end_array();
  w.key("empty").begin_object().end_object().key("none").begin_array().end_array().end_object();
  EXPECT_EQ(w.str(),
            "{\n  \"a\": -3,\n  \"list\": [\n    true,\n    null,\n    \"x\"\n  ],\n  \"empty\": {},\n"
            "  \"none\": []\n}\n");
}

TEST(JsonWriter, NumbersAreShortestRoundTrips) {
  const auto spelled = [](double v) {
    JsonWriter w;
    w.number(v);
    return w.str();
  };
  EXPECT_EQ(spelled(0.1), "0.1\n");
  EXPECT_EQ(spelled(1.0 / 3.0), "0.3333333333333333\n");
  EXPECT_EQ(spelled(2.0), "2\n");
  EXPECT_EQ(spelled(1e-7), "1e-07\n");
  EXPECT_EQ(spelled(std::nan("")), "null\n");  // no JSON spelling
  EXPECT_EQ(spelled(-INFINITY), "null\n");
  JsonWriter absent;
  absent.number(std::optional<double>{});
  EXPECT_EQ(absent.str(), "null\n");
}

TEST(JsonWriter, StringsAreEscaped) {
  JsonWriter w;
  w.begin_object().key("say \"hi\"").string("a\\b\nc").end_object();
  EXPECT_EQ(w.str(), "{\n  \"say \\\"hi\\\"\": \"a\\\\b\\nc\"\n}\n");
}

TEST(JsonWriter, RefusesMalformedDocuments) {
  EXPECT_THROW(JsonWriter().begin_object().integer(1), Error);             // value without a key
  EXPECT_THROW(JsonWriter().begin_array().key("k"), Error);                // key outside an object
  EXPECT_THROW(JsonWriter().begin_object().end_array(), Error);            // mismatched close
  EXPECT_THROW(JsonWriter().begin_object().key("k").end_object(), Error);  // key without value
  EXPECT_THROW(JsonWriter().begin_object().key("a").key("b"), Error);
  EXPECT_THROW(JsonWriter().integer(1).integer(2), Error);  // two documents
  EXPECT_THROW(JsonWriter().begin_array().str(), Error);    // incomplete
  EXPECT_THROW(JsonWriter().str(), Error);                  // empty
}

}  // namespace
}  // namespace maskdet::eval
