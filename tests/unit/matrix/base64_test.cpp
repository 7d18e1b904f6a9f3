#include "matrix/base64.h"

#include <catch2/catch.hpp>

#include <string>

using namespace eltrix::matrix;

// The examples from the spec appendix "Unpadded Base64".
TEST_CASE("base64: spec examples encode unpadded", "[matrix][base64]") {
  CHECK(encode_base64_unpadded("") == "");
  CHECK(encode_base64_unpadded("f") == "Zg");
  CHECK(encode_base64_unpadded("fo") == "Zm8");
  CHECK(encode_base64_unpadded("foo") == "Zm9v");
  CHECK(encode_base64_unpadded("foob") == "Zm9vYg");
  CHECK(encode_base64_unpadded("fooba") == "Zm9vYmE");
  CHECK(encode_base64_unpadded("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64: alphabets differ only in the last two characters", "[matrix][base64]") {
  const std::string bytes("\xfb\xff\xbf", 3);
  CHECK(encode_base64_unpadded(bytes) == "+/+/");
  CHECK(encode_base64_urlsafe_unpadded(bytes) == "-_-_");
  CHECK(decode_base64("+/+/") == bytes);
  CHECK(decode_base64("-_-_") == bytes);
}

TEST_CASE("base64: decoding accepts padded and unpadded input", "[matrix][base64]") {
  CHECK(decode_base64("") == std::string());
  CHECK(decode_base64("Zg") == "f");
  CHECK(decode_base64("Zg==") == "f");
  CHECK(decode_base64("Zm8") == "fo");
  CHECK(decode_base64("Zm8=") == "fo");
  CHECK(decode_base64("Zm9vYmFy") == "foobar");
}

TEST_CASE("base64: non-zero unused trailing bits are tolerated", "[matrix][base64]") {
  // As in Python's decoder; the spec's signing-key test vector depends on it.
  CHECK(decode_base64("Zh") == "f");
  CHECK(decode_base64("Zm9=") == "fo");
  const auto seed = decode_base64("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
  REQUIRE(seed);
  CHECK(seed->size() == 32);
  CHECK(encode_base64_unpadded(*seed) == "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0");
}

TEST_CASE("base64: decoding rejects malformed input", "[matrix][base64]") {
  CHECK_FALSE(decode_base64("Z"));         // impossible length
  CHECK_FALSE(decode_base64("Zg="));       // padding to the wrong length
  CHECK_FALSE(decode_base64("Zg==="));     // too much padding
  CHECK_FALSE(decode_base64("Zm9v===="));  // too much padding
  CHECK_FALSE(decode_base64("Zm 8"));      // whitespace
  CHECK_FALSE(decode_base64("Zm8\n"));
  CHECK_FALSE(decode_base64("Z=g="));  // padding in the middle
  CHECK_FALSE(decode_base64("a+b_"));  // mixed alphabets
  CHECK_FALSE(decode_base64("Zm9*"));
  CHECK_FALSE(decode_base64(std::string("Zg\0", 3)));
}

TEST_CASE("base64: round trips every byte value at every length", "[matrix][base64]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len <= all.size(); ++len) {
    const std::string bytes = all.substr(all.size() - len);
    const auto standard = encode_base64_unpadded(bytes);
    const auto urlsafe = encode_base64_urlsafe_unpadded(bytes);
    CHECK(standard.find('=') == std::string::npos);
    CHECK(standard.size() == (len * 4 + 2) / 3);
    CHECK(decode_base64(standard) == bytes);
    CHECK(decode_base64(urlsafe) == bytes);
    std::string padded = standard;
    while (padded.size() % 4 != 0) padded.push_back('=');
    CHECK(decode_base64(padded) == bytes);
  }
}
