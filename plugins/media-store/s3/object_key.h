// From media-store keys to S3 object keys.
//
// Keys are the same, except that a '/'-separated segment longer than
// kMaxSegment bytes is cut into pieces of at most kMaxSegment bytes, each but
// the last followed by "~/" (the last is kept at least three bytes long, so it
// is never "." or ".."). S3 itself takes keys up to 1024 bytes whatever their
// segments, but S3-compatible servers that keep objects as files (MinIO,
// s3rver) refuse a segment longer than a file name may be (255 bytes, less
// their own suffixes). Valid media keys never contain '~', so the mapping is
// reversible and two keys never share an object; ordinary keys (every key the
// core makes) map to themselves, so other S3 tools see the same names.
#pragma once

#include <string>
#include <string_view>

namespace eltrix::media_s3 {

inline constexpr std::size_t kMaxSegment = 200;

/// `key` must be valid (plugin::is_valid_object_key).
std::string s3_object_key(std::string_view key);

}  // namespace eltrix::media_s3
