// HTTP Range requests on downloads (RFC 9110 §14): one range per request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::media {

struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct RangeRequest {
  enum class Kind {
    whole,          ///< no usable Range header: send everything with 200
    partial,        ///< send `range` with 206 and Content-Range
    unsatisfiable,  ///< 416 with "Content-Range: bytes */<size>"
  };
  Kind kind = Kind::whole;
  ByteRange range;
};

/// Interprets a Range header against an object of `size` bytes. A header we
/// do not understand (another unit, several ranges, bad syntax) is ignored,
/// as RFC 9110 allows, and the whole object is sent. "bytes=a-b", "bytes=a-"
/// and "bytes=-n" are served; a first byte at or past the end, or a suffix
/// of 0 bytes, is unsatisfiable.
RangeRequest parse_range(std::optional<std::string_view> header, std::uint64_t size);

/// "bytes <first>-<last>/<size>".
std::string content_range(const ByteRange& range, std::uint64_t size);

}  // namespace eltrix::media
