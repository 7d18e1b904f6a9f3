#include "matrix/canonical_json.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

using eltrix::matrix::canonical_json;
using eltrix::matrix::is_canonical_compatible;
using nlohmann::json;

namespace {
std::string canon(const char* text) {
  return canonical_json(json::parse(text));
}

std::string why_not(const json& value) {
  std::string why;
  CHECK_FALSE(is_canonical_compatible(value, &why));
  return why;
}
}  // namespace

// Every input/output pair from the spec appendix "Canonical JSON", "Examples".
TEST_CASE("canonical JSON: the spec appendix examples", "[matrix][canonical_json]") {
  CHECK(canon("{}") == "{}");
  CHECK(canon(R"({
      "one": 1,
      "two": "Two"
  })") == R"({"one":1,"two":"Two"})");
  CHECK(canon(R"({
      "b": "2",
      "a": "1"
  })") == R"({"a":"1","b":"2"})");
  CHECK(canon(R"({"b":"2","a":"1"})") == R"({"a":"1","b":"2"})");
  CHECK(canon(R"({
      "auth": {
          "success": true,
          "mxid": "@john.doe:example.com",
          "profile": {
              "display_name": "John Doe",
              "three_pids": [
                  {
                      "medium": "email",
                      "address": "john.doe@example.org"
                  },
                  {
                      "medium": "msisdn",
                      "address": "123456789"
                  }
              ]
          }
      }
  })") == R"({"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe",)"
          R"("three_pids":[{"address":"john.doe@example.org","medium":"email"},)"
          R"({"address":"123456789","medium":"msisdn"}]},"success":true}})");
  CHECK(canon(R"({
      "a": "日本語"
  })") == R"({"a":"日本語"})");
  CHECK(canon(R"({
      "本": 2,
      "日": 1
  })") == R"({"日":1,"本":2})");
  CHECK(canon(R"({
      "a": "\u65E5"
  })") == R"({"a":"日"})");
  CHECK(canon(R"({
      "a": null
  })") == R"({"a":null})");
  CHECK(canon(R"({
      "a": -0,
      "b": 1e10
  })") == R"({"a":0,"b":10000000000})");
}

// The escaping rules of the appendix grammar, which are what Python's
// json.dumps(ensure_ascii=False) produces.
TEST_CASE("canonical JSON: string escapes follow the grammar", "[matrix][canonical_json]") {
  CHECK(canon(R"(["\u0000"])") == R"(["\u0000"])");
  CHECK(canon(R"(["\u0001\u0007\u000B\u000E\u000F"])") == R"(["\u0001\u0007\u000b\u000e\u000f"])");
  CHECK(canon(R"(["\u0010\u001A\u001f"])") == R"(["\u0010\u001a\u001f"])");
  CHECK(canon(R"(["\b\t\n\f\r"])") == R"(["\b\t\n\f\r"])");
  CHECK(canon(R"(["\u0008\u0009\u000A\u000C\u000D"])") == R"(["\b\t\n\f\r"])");
  CHECK(canon(R"(["\"\\"])") == R"(["\"\\"])");
  // Redundant escapes in the input disappear: '/' and DEL are not escaped.
  CHECK(canon(R"(["\/\u007f\u0020"])") == "[\"/\x7f \"]");
  // Non-ASCII, including astral-plane and line-separator characters, stays raw.
  CHECK(canon(R"(["\ud83d\ude00\u2028\u00e9"])") == "[\"\xF0\x9F\x98\x80\xE2\x80\xA8\xC3\xA9\"]");
  // Escapes apply to keys too.
  CHECK(canon(R"({"a\nb":1})") == R"({"a\nb":1})");

  json with_nul = json::array({std::string("a\0b", 3)});
  CHECK(canonical_json(with_nul) == R"(["a\u0000b"])");
}

TEST_CASE("canonical JSON: keys sort by code point, at every depth", "[matrix][canonical_json]") {
  // 'B' (U+0042) < '_' (U+005F) < 'a' (U+0061) < 'é' (U+00E9) < '日' (U+65E5) < U+1F600.
  CHECK(canon(R"({"😀":0,"日":1,"é":2,"a":3,"_":4,"B":5})") ==
        R"({"B":5,"_":4,"a":3,"é":2,"日":1,"😀":0})");
  CHECK(canon(R"({"z":[{"y":1,"x":2}],"a":{"c":{"e":1,"d":2},"b":false}})") ==
        R"({"a":{"b":false,"c":{"d":2,"e":1}},"z":[{"x":2,"y":1}]})");
  CHECK(canon(R"([3, 2, 1])") == "[3,2,1]");  // arrays keep their order
  CHECK(canon(R"({"a":[],"b":{},"c":true,"d":false})") == R"({"a":[],"b":{},"c":true,"d":false})");
}

TEST_CASE("canonical JSON: integer limits", "[matrix][canonical_json]") {
  CHECK(canon("[9007199254740991]") == "[9007199254740991]");
  CHECK(canon("[-9007199254740991]") == "[-9007199254740991]");
  CHECK_THROWS_AS(canon("[9007199254740992]"), std::invalid_argument);
  CHECK_THROWS_AS(canon("[-9007199254740992]"), std::invalid_argument);
  CHECK_THROWS_AS(canon("[18446744073709551615]"), std::invalid_argument);  // unsigned
  CHECK_THROWS_AS(canon("[-9223372036854775808]"), std::invalid_argument);
  CHECK_THROWS_AS(canonical_json(json(std::int64_t{1} << 53)), std::invalid_argument);
  CHECK_THROWS_AS(canonical_json(json(std::uint64_t{1} << 53)), std::invalid_argument);
  CHECK(canonical_json(json(std::uint64_t{42})) == "42");
  // Integral floats are integers (the spec's 1e10 example); range still applies.
  CHECK(canon("[1.0, 2e3, -0.0]") == "[1,2000,0]");
  CHECK_THROWS_AS(canon("[1e16]"), std::invalid_argument);
}

TEST_CASE("canonical JSON: floats and other unencodable values are rejected",
          "[matrix][canonical_json]") {
  CHECK_THROWS_AS(canon("[1.5]"), std::invalid_argument);
  CHECK_THROWS_AS(canon(R"({"a":{"b":0.1}})"), std::invalid_argument);
  CHECK_THROWS_AS(canonical_json(json(std::numeric_limits<double>::quiet_NaN())),
                  std::invalid_argument);
  CHECK_THROWS_AS(canonical_json(json(std::numeric_limits<double>::infinity())),
                  std::invalid_argument);
  CHECK_THROWS_AS(canonical_json(json::binary({1, 2})), std::invalid_argument);
  CHECK_THROWS_AS(canonical_json(json("\xC3")), std::invalid_argument);          // truncated
  CHECK_THROWS_AS(canonical_json(json("\xC0\xAF")), std::invalid_argument);      // overlong
  CHECK_THROWS_AS(canonical_json(json("\xED\xA0\x80")), std::invalid_argument);  // surrogate
  CHECK_THROWS_AS(canonical_json(json("\xF4\x90\x80\x80")), std::invalid_argument);
  CHECK_THROWS_AS(canonical_json(json{{"\xFF", 1}}), std::invalid_argument);  // bad key

  try {
    canon(R"({"content":{"m.relates_to":[0, {"x":2.5}]}})");
    FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("float"));
    CHECK_THAT(message, Catch::Contains(R"(content.m\.relates_to[1].x)"));
  }
  try {
    canon("[9007199254740992]");
    FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("range"));
  }
}

TEST_CASE("is_canonical_compatible agrees with canonical_json and limits depth",
          "[matrix][canonical_json]") {
  std::string why = "untouched";
  CHECK(is_canonical_compatible(json::parse(R"({"body":"hi","n":[1,2,{"x":null}]})"), &why));
  CHECK(why == "untouched");
  CHECK(is_canonical_compatible(json::parse("[9007199254740991, 1e10]"), nullptr));
  CHECK_FALSE(is_canonical_compatible(json::parse("[1.5]"), nullptr));

  CHECK_THAT(why_not(json::parse(R"({"a":{"b":1.5}})")), Catch::Contains("a.b"));
  CHECK_THAT(why_not(json::parse("[9007199254740992]")), Catch::Contains("range"));
  CHECK_THAT(why_not(json("\xFF")), Catch::Contains("UTF-8"));

  auto nested = [](std::size_t depth) {
    json v = json::object();
    for (std::size_t i = 1; i < depth; ++i) v = json{{"k", std::move(v)}};
    return v;
  };
  CHECK(is_canonical_compatible(nested(eltrix::matrix::kMaxClientJsonDepth), nullptr));
  CHECK_THAT(why_not(nested(eltrix::matrix::kMaxClientJsonDepth + 1)), Catch::Contains("deep"));
  // canonical_json itself only guards the stack, far beyond the client limit.
  CHECK_NOTHROW(canonical_json(nested(eltrix::matrix::kMaxClientJsonDepth + 1)));
  CHECK_THROWS_AS(canonical_json(nested(eltrix::matrix::kMaxCanonicalJsonDepth + 1)),
                  std::invalid_argument);
  CHECK_NOTHROW(canonical_json(nested(eltrix::matrix::kMaxCanonicalJsonDepth)));
}
