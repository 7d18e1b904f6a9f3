#include "crypto/tokens.h"

#include <catch2/catch.hpp>

#include <set>

using namespace eltrix::crypto;

TEST_CASE("access tokens: prefix, URL-safe alphabet, 256 random bits") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string token = generate_access_token();
    REQUIRE(token.size() == 4 + 43);
    CHECK(token.rfind("elt_", 0) == 0);
    CHECK(token.find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4) ==
          std::string::npos);
    seen.insert(token);
  }
  CHECK(seen.size() == 200);
}

TEST_CASE("token hashes are SHA-256 hex and never the token") {
  // Independently computed: printf 'elt_test' | sha256sum
  CHECK(token_hash("elt_test") ==
        "3bef82dccc9345b0c1ffdf6d92dc1d8e8f83508daaf8655fdbb7f098f7b5599d");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("device IDs are 10 upper-case letters") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string id = generate_device_id();
    REQUIRE(id.size() == 10);
    CHECK(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos);
    seen.insert(id);
  }
  CHECK(seen.size() == 200);
}

TEST_CASE("session IDs and nonces") {
  CHECK(generate_session_id().size() == 32);
  CHECK(generate_session_id() != generate_session_id());
  const std::string nonce = generate_nonce();
  CHECK(nonce.size() == 64);
  CHECK(nonce.find_first_not_of("0123456789abcdef") == std::string::npos);
}

TEST_CASE("encodings") {
  CHECK(to_hex(std::string("\x00\xff\x10", 3)) == "00ff10");
  CHECK(base64url("\xfb\xff") == "-_8");
  CHECK(base64url("") == "");
  CHECK(random_string(5, "a") == "aaaaa");
  CHECK_THROWS(random_string(1, ""));
  CHECK(random_bytes(16).size() == 16);
}
