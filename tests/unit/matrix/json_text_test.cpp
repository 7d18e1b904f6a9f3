#include "matrix/json_text.h"

#include <catch2/catch.hpp>

#include <string>

using namespace eltrix::matrix;

TEST_CASE("parse_json: accepts JSON text, a NUL only as \\u0000", "[matrix][json_text]") {
  nlohmann::json out;
  REQUIRE(parse_json(R"({"body":"a\u0000b"})", out));
  CHECK(out["body"].get<std::string>() == std::string("a\0b", 3));
  CHECK_FALSE(parse_json("", out));
  CHECK_FALSE(parse_json("{\"a\":", out));
}

TEST_CASE("parse_json: a raw NUL is refused, not taken for the end of the text",
          "[matrix][json_text]") {
  nlohmann::json out;
  // nlohmann alone reads these as {} and 0, ignoring what follows the NUL.
  CHECK_FALSE(parse_json(std::string("{}\0{\"admin\":true}", 17), out));
  CHECK_FALSE(parse_json(std::string("0\0", 2), out));
  CHECK_FALSE(parse_json(std::string("{\"a\":\"x\0y\"}", 11), out));
}

TEST_CASE("parse_json: nesting deeper than kMaxJsonDepth is refused before parsing",
          "[matrix][json_text]") {
  nlohmann::json out;
  const auto max = static_cast<std::size_t>(kMaxJsonDepth);
  const std::string ok = std::string(max, '[') + std::string(max, ']');
  CHECK(parse_json(ok, out));
  const std::string deep = std::string(max + 1, '[') + std::string(max + 1, ']');
  CHECK_FALSE(parse_json(deep, out));
  // Brackets inside strings do not count.
  CHECK(parse_json("\"" + std::string(1000, '[') + "\"", out));
}
