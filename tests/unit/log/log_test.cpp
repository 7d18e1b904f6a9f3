// Log lines: key/value fields in text, one valid JSON object per line in json.
#include "log/log.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <catch2/catch.hpp>

using eltrix::log::Field;
using eltrix::log::Format;
using eltrix::log::format_payload;

TEST_CASE("text payloads quote only values that need it", "[log]") {
  const Field fields[] = {{"method", "GET"}, {"path", "/a b"}, {"empty", ""}, {"q", "say \"hi\""}};
  CHECK(format_payload(Format::text, "request", fields) ==
        R"(request method=GET path="/a b" empty="" q="say \"hi\"")");
}

TEST_CASE("json payloads are valid JSON members whatever the content", "[log]") {
  const Field fields[] = {{"error", "line1\nline2\t\"quoted\" \\ \x01"}, {"k", "v"}};
  const std::string line = "{" + format_payload(Format::json, "msg with \"quotes\"", fields) + "}";
  Poco::JSON::Parser parser;
  auto object = parser.parse(line).extract<Poco::JSON::Object::Ptr>();
  CHECK(object->getValue<std::string>("msg") == "msg with \"quotes\"");
  CHECK(object->getValue<std::string>("error") == "line1\nline2\t\"quoted\" \\ \x01");
  CHECK(object->getValue<std::string>("k") == "v");
}

TEST_CASE("levels parse from their config names", "[log]") {
  eltrix::log::Level level = eltrix::log::Level::info;
  CHECK(eltrix::log::parse_level("debug", level));
  CHECK(level == eltrix::log::Level::debug);
  CHECK(eltrix::log::parse_level("error", level));
  CHECK(level == eltrix::log::Level::error);
  CHECK_FALSE(eltrix::log::parse_level("loud", level));
}
