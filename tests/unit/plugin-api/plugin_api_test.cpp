// The inline helpers of the public plugin headers.
#include <eltrix/plugin/plugin.h>

#include "config/static_config.h"

#include <catch2/catch.hpp>

using namespace eltrix::plugin;

TEST_CASE("object keys cannot leave the store's root", "[plugin-api]") {
  CHECK(is_valid_object_key("example.org/AbCdEf123"));
  CHECK(is_valid_object_key("thumbnails/example.org/abc/32x32-crop"));
  CHECK_FALSE(is_valid_object_key(""));
  CHECK_FALSE(is_valid_object_key("../etc/passwd"));
  CHECK_FALSE(is_valid_object_key("a/../../b"));
  CHECK_FALSE(is_valid_object_key("a/./b"));
  CHECK_FALSE(is_valid_object_key("/absolute"));
  CHECK_FALSE(is_valid_object_key("trailing/"));
  CHECK_FALSE(is_valid_object_key("a//b"));
  CHECK_FALSE(is_valid_object_key(std::string_view("a\0b", 3)));
  CHECK_FALSE(is_valid_object_key("back\\slash"));
  CHECK_FALSE(is_valid_object_key("sp ace"));
  CHECK_FALSE(is_valid_object_key(std::string(kMaxObjectKeySize + 1, 'a')));
  CHECK(is_valid_object_key(std::string(kMaxObjectKeySize, 'a')));
}

TEST_CASE("typed config accessors parse and explain failures", "[plugin-api]") {
  eltrix::config::StaticConfig config(
      {{"n", "42"}, {"bad", "4x"}, {"flag", "yes"}, {"list", " a, b ,,c "}});
  CHECK(config.get_int("n") == 42);
  CHECK(config.get_int("absent", 7) == 7);
  CHECK(config.get_bool("flag"));
  CHECK(config.get_list("list") == std::vector<std::string>{"a", "b", "c"});
  try {
    (void)config.get_int("bad");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::permanent);
    CHECK(std::string(e.what()) == "bad: expected an integer, found '4x'");
  }
}

TEST_CASE("kind names are the file-name prefixes", "[plugin-api]") {
  CHECK(kind_name(Kind::cache) == "cache");
  CHECK(kind_name(Kind::media_store) == "media-store");
  CHECK(kind_name(Kind::cluster_strategy) == "cluster-strategy");
  CHECK(kind_name(Kind::db_routing) == "db-routing");
}
