#include "cluster/messages.h"

#include <catch2/catch.hpp>

using namespace eltrix::cluster;
using namespace std::chrono_literals;

TEST_CASE("cluster messages: round-trip and refuse malformed payloads", "[cluster][messages]") {
  auto keys = decode_wake(encode_wake({"room:!a:x", "user:@u:x"}));
  REQUIRE(keys);
  CHECK(*keys == std::vector<std::string>{"room:!a:x", "user:@u:x"});
  CHECK_FALSE(decode_wake(R"({"k": [1]})"));
  CHECK_FALSE(decode_wake("not json"));

  auto typing = decode_typing(encode_typing({"!r:x", "@u:x", true, 30000ms}));
  REQUIRE(typing);
  CHECK(typing->room_id == "!r:x");
  CHECK(typing->user_id == "@u:x");
  CHECK(typing->typing);
  CHECK(typing->timeout == 30000ms);
  CHECK_FALSE(decode_typing(R"({"r": "!r:x"})"));

  auto erase = decode_invalidation(encode_invalidation({"tok:abc", std::nullopt, 0s}));
  REQUIRE(erase);
  CHECK(erase->key == "tok:abc");
  CHECK_FALSE(erase->tombstone);
  auto tomb = decode_invalidation(encode_invalidation({"tok:abc", "revoked", 60s}));
  REQUIRE(tomb);
  CHECK(tomb->tombstone == std::optional<std::string>("revoked"));
  CHECK(tomb->ttl == 60s);
  CHECK_FALSE(decode_invalidation(R"({"k": "x", "ttl": 1, "v": 3})"));

  CHECK(message_type_name(32) == "wake");
  CHECK(message_type_name(200) == "unknown");
}
