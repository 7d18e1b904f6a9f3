#include "media/media_id.h"

#include <eltrix/plugin/media_store.h>

#include <catch2/catch.hpp>

#include <set>

using namespace eltrix::media;

TEST_CASE("media IDs: fixed length, alphanumeric, unique", "[media]") {
  std::set<std::string> seen;
  for (int i = 0; i < 500; ++i) {
    const std::string id = generate_media_id();
    REQUIRE(id.size() == kMediaIdLength);
    CHECK(is_valid_media_id(id));
    seen.insert(id);
  }
  CHECK(seen.size() == 500);
}

TEST_CASE("media ID validation is strict", "[media]") {
  CHECK(is_valid_media_id("abcdefghijklmnopqrstuvwx"));
  CHECK(is_valid_media_id("ABCDEFGHIJKLMNOPQRSTUV09"));
  CHECK_FALSE(is_valid_media_id(""));
  CHECK_FALSE(is_valid_media_id("abc"));
  CHECK_FALSE(is_valid_media_id(std::string(25, 'a')));
  CHECK_FALSE(is_valid_media_id(std::string(23, 'a')));
  CHECK_FALSE(is_valid_media_id(std::string(22, 'a') + ".."));
  CHECK_FALSE(is_valid_media_id(std::string(23, 'a') + "/"));
  CHECK_FALSE(is_valid_media_id(std::string(23, 'a') + std::string(1, '\0')));
  CHECK_FALSE(is_valid_media_id(std::string(23, 'a') + "-"));
  CHECK_FALSE(is_valid_media_id(std::string(21, 'a') + "%2F"));
  CHECK_FALSE(is_valid_media_id(std::string(22, 'a') + "\xc3\xa9"));
}

TEST_CASE("server names", "[media]") {
  CHECK(is_valid_server_name("example.org"));
  CHECK(is_valid_server_name("localhost:8448"));
  CHECK(is_valid_server_name("[::1]:8448"));
  CHECK(is_valid_server_name("1.2.3.4"));
  CHECK_FALSE(is_valid_server_name(""));
  CHECK_FALSE(is_valid_server_name("a/b"));
  CHECK_FALSE(is_valid_server_name("bad_server"));
  CHECK_FALSE(is_valid_server_name("host:99999"));
  CHECK_FALSE(is_valid_server_name(std::string(300, 'a')));
}

TEST_CASE("store keys are valid object keys and one-to-one", "[media]") {
  const std::string id = generate_media_id();
  CHECK(media_key("example.org", id) == "example.org/" + id);
  CHECK(server_key_segment("localhost:8448") == "localhost_3a8448");
  CHECK(server_key_segment("[::1]:8448") == "_5b_3a_3a1_5d_3a8448");
  for (const char* server : {"example.org", "localhost:8448", "[::1]:8448", "[2001:db8::1]"}) {
    CHECK(eltrix::plugin::is_valid_object_key(media_key(server, id)));
    CHECK(eltrix::plugin::is_valid_object_key(thumbnail_key(server, id, 320, 240, "scale")));
  }
  CHECK(thumbnail_key("example.org", id, 32, 32, "crop") ==
        "thumbnails/example.org/" + id + "/32x32-crop");
  CHECK(media_key("a:1", id) != media_key("a_3a1", id));
}

// Found by fuzz/media_headers.cpp: ".." passed as a server name, and
// media_key("..", id) was "../<id>", a path out of the store's root.
TEST_CASE("server names that would be path segments are refused", "[media]") {
  for (const char* name : {"..", ".", "../x", "a..b", "..:8448"}) {
    INFO(name);
    CHECK_FALSE(is_valid_server_name(name));
  }
}
