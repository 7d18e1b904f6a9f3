#include "sync/token.h"

#include <catch2/catch.hpp>

using namespace eltrix::sync;

TEST_CASE("sync tokens round-trip and reject what we never issued", "[sync]") {
  const SyncToken token{1234, 987654321};
  const auto text = format_sync_token(token);
  CHECK(text == "s1234_987654321");
  auto parsed = parse_sync_token(text);
  REQUIRE(parsed);
  CHECK(parsed->stream == 1234);
  CHECK(parsed->typing == 987654321);

  for (const char* bad : {"", "s", "1234", "s-1_0", "sx_1", "s1_", "s1_x", "s1_2_3", "t12",
                          "s99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(parse_sync_token(bad));
  }
}

TEST_CASE("pagination tokens accept both kinds", "[sync]") {
  std::int64_t position = -1;
  REQUIRE(parse_stream_token(format_stream_token(42), position));
  CHECK(position == 42);
  REQUIRE(parse_stream_token("s7_3", position));
  CHECK(position == 7);
  CHECK_FALSE(parse_stream_token("abc", position));
}
