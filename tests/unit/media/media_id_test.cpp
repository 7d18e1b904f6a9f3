#include "media/media_id.h"

#include <eltrix/plugin/media_store.h>

#include <catch2/catch.hpp>

#include <set>

using namespace eltrix::media;

TEST_CASE("media IDs we issue: fixed length, alphanumeric, unique", "[media]") {
  std::set<std::string> seen;
  for (int i = 0; i < 500; ++i) {
    const std::string id = generate_media_id();
    REQUIRE(id.size() == kMediaIdLength);
    CHECK(is_issued_media_id(id));
    CHECK(is_valid_media_id(id));
    seen.insert(id);
  }
  CHECK(seen.size() == 500);
}

TEST_CASE("the issued shape is strict", "[media]") {
  CHECK(is_issued_media_id("abcdefghijklmnopqrstuvwx"));
  CHECK(is_issued_media_id("ABCDEFGHIJKLMNOPQRSTUV09"));
  CHECK_FALSE(is_issued_media_id(""));
  CHECK_FALSE(is_issued_media_id("abc"));
  CHECK_FALSE(is_issued_media_id(std::string(25, 'a')));
  CHECK_FALSE(is_issued_media_id(std::string(23, 'a')));
  CHECK_FALSE(is_issued_media_id(std::string(23, 'a') + "-"));
  CHECK_FALSE(is_issued_media_id(std::string(23, 'a') + "_"));
  CHECK_FALSE(is_issued_media_id(std::string(23, 'a') + "/"));
}

// The spec fixes only the alphabet; other servers' IDs have other lengths
// (issue 15: a short well-formed ID got 400 instead of 404).
TEST_CASE("any ID in the spec's alphabet is accepted for lookup", "[media]") {
  for (const std::string& id :
       {std::string("a"), std::string("short"), std::string("with-dash_and_underscore"),
        std::string("-"), std::string("__"), std::string("0123456789"),
        std::string("abcdefghijklmnopqrstuvwx"), std::string(kMaxMediaIdLength, 'Z')}) {
    INFO(id);
    CHECK(is_valid_media_id(id));
  }
}

TEST_CASE("media IDs outside the alphabet or too long are refused", "[media]") {
  for (const std::string& id :
       {std::string(), std::string(kMaxMediaIdLength + 1, 'a'), std::string("."), std::string(".."),
        std::string("a.b"), std::string("a/b"), std::string("../etc"), std::string("%2F"),
        std::string("a%2e"), std::string("a b"), std::string("a+b"), std::string("a\\b"),
        std::string("a") + std::string(1, '\0'), std::string("a\nb"), std::string("caf\xc3\xa9"),
        std::string("a!"), std::string("a:b")}) {
    INFO(id);
    CHECK_FALSE(is_valid_media_id(id));
  }
}

// Every accepted ID makes a store key the media-store plugins accept, and
// one that stays inside its server's directory.
TEST_CASE("accepted IDs make valid store keys", "[media]") {
  for (const std::string& id : {std::string("-"), std::string("_x_"), std::string("a-b"),
                                std::string(kMaxMediaIdLength, 'q')}) {
    INFO(id);
    REQUIRE(is_valid_media_id(id));
    const std::string key = media_key("example.org", id);
    CHECK(eltrix::plugin::is_valid_object_key(key));
    CHECK(key == "example.org/" + id);
    CHECK(eltrix::plugin::is_valid_object_key(thumbnail_key("example.org", id, 32, 32, "crop")));
  }
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
