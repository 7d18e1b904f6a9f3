#include "crypto/secret.h"

#include <catch2/catch.hpp>

using namespace eltrix::crypto;

TEST_CASE("secret_equal compares whole values") {
  CHECK(secret_equal("token", "token"));
  CHECK_FALSE(secret_equal("token", "tokem"));
  CHECK_FALSE(secret_equal("token", "token2"));
  CHECK_FALSE(secret_equal("", "x"));
  CHECK(secret_equal("", ""));
  CHECK_FALSE(secret_equal(std::string("a\0b", 3), "a"));
}

TEST_CASE("HMAC-SHA1 matches RFC 2202 test case 2") {
  CHECK(hmac_sha1_hex("Jefe", "what do ya want for nothing?") ==
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST_CASE("shared-secret registration MAC matches an independent computation") {
  // Computed with:
  //   printf 'abcd\0alice\0s3cret pass\0admin' | openssl dgst -sha1 -hmac 'shared-secret-123'
  CHECK(shared_secret_registration_mac("shared-secret-123", "abcd", "alice", "s3cret pass", true) ==
        "d87de6c8c0f1554124bac7d0b7fb6c0f838e2315");
  //   printf 'abcd\0alice\0s3cret pass\0notadmin\0bot' | openssl dgst -sha1 -hmac ...
  CHECK(shared_secret_registration_mac("shared-secret-123", "abcd", "alice", "s3cret pass", false,
                                       "bot") == "665ef0f3a42a97fdad4312ae18e65f22425d5dae");
  // The admin flag is part of what is signed.
  CHECK(shared_secret_registration_mac("shared-secret-123", "abcd", "alice", "s3cret pass",
                                       false) != "d87de6c8c0f1554124bac7d0b7fb6c0f838e2315");
}

TEST_CASE("wipe zeroes and empties") {
  std::string secret = "hunter2";
  wipe(secret);
  CHECK(secret.empty());
}

TEST_CASE("seal round-trips and refuses another secret, purpose or an altered box") {
  const std::string plain = R"({"password":"hunter2 hunter2"})";
  const std::string sealed = seal("server secret", "purpose a", plain);
  CHECK(sealed.find("hunter2") == std::string::npos);
  CHECK(open_sealed("server secret", "purpose a", sealed) == plain);
  // A fresh nonce each time: equal plaintexts do not give equal boxes.
  CHECK(seal("server secret", "purpose a", plain) != sealed);
  CHECK_FALSE(open_sealed("other secret", "purpose a", sealed));
  CHECK_FALSE(open_sealed("server secret", "purpose b", sealed));
  std::string altered = sealed;
  altered.back() = static_cast<char>(altered.back() ^ 1);
  CHECK_FALSE(open_sealed("server secret", "purpose a", altered));
  CHECK_FALSE(open_sealed("server secret", "purpose a", "short"));
  CHECK(open_sealed("k", "p", seal("k", "p", "")) == std::string());
}
