#include "matrix/ids.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace eltrix::matrix;

namespace {
using namespace std::string_literals;

// An identifier of exactly `total` bytes: sigil, padding local part, ":example.org".
std::string id_of_length(char sigil, std::size_t total) {
  const std::string server = ":example.org";
  return sigil + std::string(total - 1 - server.size(), 'a') + server;
}
}  // namespace

TEST_CASE("server names: the spec's examples and grammar", "[matrix][ids]") {
  for (const char* good :
       {"matrix.org", "matrix.org:8888", "1.2.3.4", "1.2.3.4:1234", "[1234:5678::abcd]",
        "[1234:5678::abcd]:5678", "localhost", "MATRIX.ORG", "my-host.example", "[::1]",
        "[::ffff:1.2.3.4]:8448", "a:1", "a:65535", "x1.2"}) {
    INFO(good);
    CHECK(is_valid_server_name(good));
  }
  for (const char* bad : {"",
                          ":8448",
                          "matrix.org:",
                          "matrix.org:abc",
                          "matrix.org:123456",
                          "matrix.org:65536",
                          "matrix.org:80:80",
                          "matrix.org:-1",
                          "matrix..org",
                          ".matrix.org",
                          "matrix.org.",
                          "exa_mple.org",
                          "exa mple.org",
                          "ex@mple.org",
                          "999.1.1.1",
                          "1.2.3",
                          "1.2.3.4.5",
                          "1234",
                          "[1234:5678::abcd",
                          "[1234:5678::abcd]x",
                          "[1234:5678::abcd]:",
                          "[]",
                          "[1.2.3.4]",
                          "[::1%eth0]",
                          "[:::::]",
                          "[g::1]",
                          "1234:5678::abcd",
                          "日本.jp"}) {
    INFO(bad);
    CHECK_FALSE(is_valid_server_name(bad));
  }
  CHECK(is_valid_server_name(std::string(255, 'a')));
  CHECK_FALSE(is_valid_server_name(std::string(256, 'a')));
  CHECK_FALSE(is_valid_server_name("matrix.org\0"s));
}

TEST_CASE("user IDs: parsing accepts the historical grammar", "[matrix][ids]") {
  auto alice = parse_user_id("@alice:example.org");
  REQUIRE(alice);
  CHECK(alice->localpart == "alice");
  CHECK(alice->server == "example.org");
  CHECK(alice->str() == "@alice:example.org");

  auto ported = parse_user_id("@bob:[::1]:8448");
  REQUIRE(ported);
  CHECK(ported->localpart == "bob");
  CHECK(ported->server == "[::1]:8448");

  // Historical localparts: upper case, punctuation, non-ASCII, even empty.
  CHECK(parse_user_id("@Alice:example.org"));
  CHECK(parse_user_id("@a!b#c$d*e:example.org"));
  CHECK(parse_user_id("@日本:example.org"));
  CHECK_FALSE(parse_user_id("@:example.org"));
  CHECK(parse_user_id(id_of_length('@', 255)));

  for (const std::string& bad :
       {""s, "@"s, "alice:example.org"s, "@alice"s, "@alice:"s, "!alice:example.org"s,
        "@alice:bad_server"s, "@alice:example.org:port"s, "@al\0ice:example.org"s,
        "@alice:example.org\0"s, "@\xC3:example.org"s, id_of_length('@', 256)}) {
    INFO(bad);
    CHECK_FALSE(parse_user_id(bad));
  }
}

TEST_CASE("user IDs: localparts for new users use the strict grammar", "[matrix][ids]") {
  for (const char* good : {"alice", "a.b_c=d-e/f+g", "0", "user123"}) {
    INFO(good);
    CHECK(is_valid_new_localpart(good));
  }
  for (const std::string& bad :
       {""s, "Alice"s, "ALICE"s, "al ice"s, "al:ice"s, "al@ice"s, "é"s, "al\0ice"s, "a*"s}) {
    INFO(bad);
    CHECK_FALSE(is_valid_new_localpart(bad));
  }

  CHECK(is_compliant_localpart("Alice!"));
  CHECK_FALSE(is_compliant_localpart(""));
  CHECK_FALSE(is_compliant_localpart("al ice"));
  CHECK_FALSE(is_compliant_localpart("日本"));
  CHECK_FALSE(is_compliant_localpart("tab\there"));
}

TEST_CASE("room IDs, event IDs and aliases", "[matrix][ids]") {
  CHECK(is_valid_room_id("!abcDEF:example.org"));
  CHECK(is_valid_room_id("!abc:example.org:8448"));
  CHECK(is_valid_room_id(id_of_length('!', 255)));
  for (const std::string& bad :
       {""s, "!"s, "!abc"s, "!:example.org"s, "abc:example.org"s, "$abc:example.org"s,
        "!a\0b:example.org"s, "!abc:bad_server"s, id_of_length('!', 256)}) {
    INFO(bad);
    CHECK_FALSE(is_valid_room_id(bad));
  }

  CHECK(is_valid_event_id("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"));  // v4+ form
  CHECK(is_valid_event_id("$0:domain"));                                     // v1-3 form
  CHECK(is_valid_event_id("$" + std::string(254, 'a')));
  for (const std::string& bad :
       {""s, "$"s, "abc"s, "!abc:example.org"s, "$a\0b"s, "$\xFF"s, "$" + std::string(255, 'a')}) {
    INFO(bad);
    CHECK_FALSE(is_valid_event_id(bad));
  }

  CHECK(is_valid_room_alias("#room:example.org"));
  CHECK(is_valid_room_alias("#日本 room!:example.org:8448"));
  CHECK(is_valid_room_alias(id_of_length('#', 255)));
  for (const std::string& bad :
       {""s, "#"s, "#room"s, "#:example.org"s, "room:example.org"s, "#ro\0om:example.org"s,
        "#room:"s, "#room:ex ample.org"s, id_of_length('#', 256)}) {
    INFO(bad);
    CHECK_FALSE(is_valid_room_alias(bad));
  }
}

TEST_CASE("server_of takes everything after the first colon", "[matrix][ids]") {
  CHECK(server_of("@alice:example.org") == "example.org");
  CHECK(server_of("@alice:example.org:8448") == "example.org:8448");
  CHECK(server_of("!room:[::1]:8448") == "[::1]:8448");
  CHECK(server_of("$Rqnc-F-dvnEYJTyHq") == "");
  CHECK(server_of("") == "");
}

TEST_CASE("random strings and new room IDs", "[matrix][ids]") {
  CHECK(random_string(0).empty());
  const auto a = random_string(64);
  const auto b = random_string(64);
  CHECK(a.size() == 64);
  CHECK(a != b);
  auto letters_only = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
  };
  CHECK(letters_only(a));
  CHECK(letters_only(random_string(10000)));

  const auto id = make_room_id("example.org:8448");
  CHECK(is_valid_room_id(id));
  REQUIRE(id.size() == 1 + 18 + 1 + 16);
  CHECK(id.front() == '!');
  CHECK(letters_only(id.substr(1, 18)));
  CHECK(server_of(id) == "example.org:8448");
  CHECK(make_room_id("example.org") != make_room_id("example.org"));
}
