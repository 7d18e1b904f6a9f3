#include "matrix/signing_key_file.h"

#include "matrix/base64.h"

#include <catch2/catch.hpp>

#include <string>

using namespace eltrix::matrix;

namespace {

// The spec appendix "Cryptographic Test Vectors": its seed and public key.
constexpr const char* kSeed = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";
constexpr const char* kPublic = "XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI";

}  // namespace

TEST_CASE("signing key file: Synapse's line format, both ways") {
  std::string error;
  auto key = parse_signing_key_file(std::string("ed25519 a_Xy9 ") + kSeed + "\n", error);
  REQUIRE(key);
  CHECK(key->key_id() == "ed25519:a_Xy9");
  CHECK(key->public_key_base64() == kPublic);
  // Written back canonically: the vector's last character carries unused
  // bits that an encoder leaves zero.
  CHECK(format_signing_key_file(*key) ==
        "ed25519 a_Xy9 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0\n");

  // Round trip of a generated key: same ID, same public key.
  auto fresh = SigningKey::generate("k1");
  auto again = parse_signing_key_file(format_signing_key_file(fresh), error);
  REQUIRE(again);
  CHECK(again->key_id() == fresh.key_id());
  CHECK(again->public_key_base64() == fresh.public_key_base64());
}

TEST_CASE("signing key file: comments, blank lines, CRLF and padded Base64 are accepted") {
  std::string error;
  auto key = parse_signing_key_file(
      std::string("# exported from synapse\n\n  ed25519  v1\t") + kSeed + "=\r\n", error);
  REQUIRE(key);
  CHECK(key->public_key_base64() == kPublic);
}

TEST_CASE("signing key file: errors say what was found and never quote the seed") {
  std::string error;
  CHECK_FALSE(parse_signing_key_file("", error));
  CHECK(error.find("no key found") != std::string::npos);

  CHECK_FALSE(parse_signing_key_file(std::string("ed25519 ") + kSeed, error));
  CHECK(error == "line 1: found 2 fields, expected 3: 'ed25519 <version> <base64 seed>'");

  CHECK_FALSE(parse_signing_key_file(std::string("\ncurve25519 v1 ") + kSeed, error));
  CHECK(error == "line 2: the algorithm is 'curve25519', expected 'ed25519'");

  CHECK_FALSE(parse_signing_key_file("ed25519 v1 not*base64", error));
  CHECK(error == "line 1: the seed is not Base64");
  CHECK(error.find("not*base64") == std::string::npos);

  CHECK_FALSE(parse_signing_key_file("ed25519 v1 " + encode_base64_unpadded("short"), error));
  CHECK(error == "line 1: the seed is 5 bytes, expected 32");

  CHECK_FALSE(parse_signing_key_file(std::string("ed25519 bad-version ") + kSeed, error));
  CHECK(error == "line 1: the key version 'bad-version' is not [a-zA-Z0-9_]+");
}
