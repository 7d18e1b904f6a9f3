// An upload's request body as a plugin::ByteSource: the bytes go from the
// socket to MediaStore::put through the store's fixed-size buffer, and their
// SHA-256 and count are computed on the way (libsodium, incrementally), so an
// upload of any size costs the same little memory.
//
// The source throws, which makes every store discard what it wrote, when
//  - the body is larger than the limit (the server's limited stream ends at
//    the limit and `too_large()` turns true), or
//  - the body ends before its Content-Length (the stream fails: the client
//    disconnected or timed out).
// failure() says which, even if a store wraps the exception in its own.
#pragma once

#include <eltrix/plugin/media_store.h>

#include <sodium.h>

#include <functional>
#include <istream>
#include <stdexcept>
#include <string>

namespace eltrix::media {

class UploadAborted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class UploadSource final : public plugin::ByteSource {
 public:
  enum class Failure { none, too_large, truncated };

  /// `too_large` is asked when `in` ends (http::Request::body_too_large).
  UploadSource(std::istream& in, std::function<bool()> too_large);

  /// Whether the body has at least one byte (reads ahead into `in`'s buffer;
  /// a stream that fails here is reported by the first read()).
  bool has_data();

  std::size_t read(char* buffer, std::size_t capacity) override;

  [[nodiscard]] Failure failure() const { return failure_; }
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }
  /// Lower-case hex SHA-256 of everything read; call once, at the end.
  std::string sha256_hex();

 private:
  std::istream& in_;
  std::function<bool()> too_large_;
  crypto_hash_sha256_state state_{};
  std::uint64_t bytes_ = 0;
  Failure failure_ = Failure::none;
};

}  // namespace eltrix::media
