#include "media/upload_source.h"

#include "crypto/tokens.h"

#include <catch2/catch.hpp>

#include <sstream>

using namespace eltrix::media;

namespace {
std::string drain(UploadSource& source, std::size_t chunk = 7) {
  std::string out;
  std::string buffer(chunk, '\0');
  while (std::size_t got = source.read(buffer.data(), buffer.size())) out.append(buffer, 0, got);
  return out;
}
}  // namespace

TEST_CASE("an upload source hashes and counts what it passes on", "[media]") {
  const std::string data = "The quick brown fox jumps over the lazy dog";
  std::istringstream in(data);
  UploadSource source(in, [] { return false; });
  CHECK(source.has_data());
  CHECK(drain(source) == data);
  CHECK(source.bytes() == data.size());
  CHECK(source.sha256_hex() == eltrix::crypto::sha256_hex(data));
  CHECK(source.failure() == UploadSource::Failure::none);
}

TEST_CASE("an empty body has no data", "[media]") {
  std::istringstream in("");
  UploadSource source(in, [] { return false; });
  CHECK_FALSE(source.has_data());
}

TEST_CASE("a body over the limit aborts the upload", "[media]") {
  std::istringstream in("0123456789");
  UploadSource source(in, [] { return true; });  // the limited stream ended early
  CHECK_THROWS_AS(drain(source, 4), UploadAborted);
  CHECK(source.failure() == UploadSource::Failure::too_large);
}

TEST_CASE("a failed stream is a truncated upload", "[media]") {
  std::istringstream in("0123456789");
  in.setstate(std::ios_base::badbit);
  UploadSource source(in, [] { return false; });
  char buffer[4];
  CHECK_THROWS_AS(source.read(buffer, sizeof buffer), UploadAborted);
  CHECK(source.failure() == UploadSource::Failure::truncated);
}
