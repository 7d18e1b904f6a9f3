#include "media/upload_source.h"

#include "crypto/tokens.h"

namespace eltrix::media {

UploadSource::UploadSource(std::istream& in, std::function<bool()> too_large)
    : in_(in), too_large_(std::move(too_large)) {
  crypto_hash_sha256_init(&state_);
}

bool UploadSource::has_data() {
  // A stream that fails here (cut off at once) counts as data, so that the
  // first read() reports it as a truncated upload rather than an empty one.
  return in_.peek() != std::istream::traits_type::eof() || in_.bad();
}

std::size_t UploadSource::read(char* buffer, std::size_t capacity) {
  if (failure_ != Failure::none) throw UploadAborted("upload already aborted");
  if (capacity == 0) return 0;
  in_.read(buffer, static_cast<std::streamsize>(capacity));
  const auto got = static_cast<std::size_t>(in_.gcount());
  if (in_.bad()) {
    // The limited stream fails (badbit) when the client sent less than its
    // Content-Length: never store the part that arrived.
    failure_ = Failure::truncated;
    throw UploadAborted("the request body ended before its Content-Length");
  }
  if (got < capacity && too_large_ && too_large_()) {
    failure_ = Failure::too_large;
    throw UploadAborted("the request body is larger than the upload limit");
  }
  if (got != 0) {
    crypto_hash_sha256_update(&state_, reinterpret_cast<const unsigned char*>(buffer), got);
    bytes_ += got;
  }
  return got;
}

std::string UploadSource::sha256_hex() {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state_, digest);
  return crypto::to_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace eltrix::media
