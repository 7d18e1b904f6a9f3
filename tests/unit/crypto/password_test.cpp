#include "crypto/password.h"

#include <catch2/catch.hpp>

#include <string>

using namespace eltrix::crypto;

TEST_CASE("password policy: minimum length counts characters, not bytes") {
  PasswordPolicy policy{.min_length = 8, .require_special = false};
  CHECK(check_password_policy(policy, "abcdefgh") == std::nullopt);
  auto reason = check_password_policy(policy, "abcdefg");
  REQUIRE(reason);
  CHECK(reason->find("at least 8") != std::string::npos);
  // Seven two-byte characters are 14 bytes but still 7 characters: too short.
  CHECK(check_password_policy(policy, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"));
  CHECK_FALSE(check_password_policy(
      policy, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"));
}

TEST_CASE("password policy: special characters") {
  PasswordPolicy policy{.min_length = 1, .require_special = true};
  CHECK(check_password_policy(policy, "abcDEF123"));
  CHECK_FALSE(check_password_policy(policy, "abc!DEF"));
  CHECK_FALSE(check_password_policy(policy, "abc DEF"));
  CHECK_FALSE(check_password_policy(policy, "abc\xc3\xa9"));  // non-ASCII counts
}

TEST_CASE("password policy: too long is refused before hashing") {
  PasswordPolicy policy{.min_length = 1};
  CHECK_FALSE(check_password_policy(policy, std::string(kMaxPasswordBytes, 'a')));
  auto reason = check_password_policy(policy, std::string(kMaxPasswordBytes + 1, 'a'));
  REQUIRE(reason);
  CHECK(reason->find("too long") != std::string::npos);
}

TEST_CASE("password hashes are argon2id, salted, and verify") {
  const std::string hash = hash_password("correct horse");
  CHECK(hash.rfind("$argon2id$", 0) == 0);
  CHECK(hash.find("correct horse") == std::string::npos);
  CHECK(verify_password(hash, "correct horse"));
  CHECK_FALSE(verify_password(hash, "correct horsE"));
  CHECK_FALSE(verify_password(hash, ""));
  // A fresh salt each time.
  CHECK(hash_password("correct horse") != hash);
  CHECK_FALSE(needs_rehash(hash));
}

TEST_CASE("passwords may contain NUL bytes and are compared whole") {
  const std::string with_nul("ab\0cd", 5);
  const std::string hash = hash_password(with_nul);
  CHECK(verify_password(hash, with_nul));
  CHECK_FALSE(verify_password(hash, "ab"));
}

TEST_CASE("malformed or foreign hashes never verify and need a rehash") {
  CHECK_FALSE(verify_password("", "x"));
  CHECK_FALSE(verify_password("not a hash", "x"));
  CHECK_FALSE(verify_password(std::string(1000, '$'), "x"));
  CHECK(needs_rehash(""));
  CHECK(needs_rehash("$2b$12$abcdefghijklmnopqrstuv"));
  // Weaker parameters than the current ones: should be upgraded on next login.
  const std::string weak =
      "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
      "yAtPZn+fZr6qIm3Mq7pq4Q";
  CHECK(needs_rehash(weak));
}

TEST_CASE("burning verification time does not throw") {
  burn_verification_time("anything");
  CHECK(max_concurrent_hashes() >= 2);
}
