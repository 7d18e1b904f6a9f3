#include "accounts/username.h"

#include <catch2/catch.hpp>

using namespace eltrix::accounts;

TEST_CASE("localparts follow the spec grammar") {
  CHECK(valid_localpart("alice"));
  CHECK(valid_localpart("a.b_c=d-e/f+g9"));
  CHECK_FALSE(valid_localpart(""));
  CHECK_FALSE(valid_localpart("Alice"));
  CHECK_FALSE(valid_localpart("al ice"));
  CHECK_FALSE(valid_localpart("al:ice"));
  CHECK_FALSE(valid_localpart("al*ice"));
  CHECK_FALSE(valid_localpart("\xc3\xa9"));
}

TEST_CASE("new localparts: grammar, reserved prefix, total length") {
  CHECK(check_new_localpart("alice", "example.org") == std::nullopt);
  CHECK(check_new_localpart("", "example.org"));
  CHECK(check_new_localpart("Alice", "example.org"));
  CHECK(check_new_localpart("_bridge", "example.org"));
  // "@" + 243 + ":" + 10 = 255 bytes: the longest allowed.
  CHECK(check_new_localpart(std::string(243, 'a'), "0123456789") == std::nullopt);
  CHECK(check_new_localpart(std::string(244, 'a'), "0123456789"));
}

TEST_CASE("login identifiers: localpart or full user ID, case-insensitive") {
  CHECK(local_user_id("alice", "example.org") == "@alice:example.org");
  CHECK(local_user_id("Alice", "example.org") == "@alice:example.org");
  CHECK(local_user_id("@alice:example.org", "example.org") == "@alice:example.org");
  CHECK(local_user_id("@ALICE:Example.ORG", "example.org") == "@alice:example.org");
  CHECK(local_user_id("@alice:other.org", "example.org") == std::nullopt);
  CHECK(local_user_id("@alice", "example.org") == std::nullopt);
  CHECK(local_user_id("", "example.org") == std::nullopt);
  CHECK(local_user_id("a b", "example.org") == std::nullopt);
}

TEST_CASE("generated localparts are valid and distinct") {
  const std::string a = generate_localpart();
  CHECK(check_new_localpart(a, "example.org") == std::nullopt);
  CHECK(a.size() == 16);
  CHECK(a != generate_localpart());
  CHECK(to_lower_ascii("AbC-\xc3\x89") == "abc-\xc3\x89");
}
