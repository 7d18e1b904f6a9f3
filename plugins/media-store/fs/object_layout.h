// Where an object lives under the media root.
//
// The object for key K is stored at <h0h1>/<h2h3>/<name>, where h is the hex
// FNV-1a 64 hash of K (two levels of 256 directories spread the files) and
// <name> is K with every '/' written as "%2F". Valid keys never contain '%',
// so the mapping is reversible and two keys never share a file. Names longer
// than kMaxNameChunk are cut into chunks; every chunk but the last becomes a
// directory whose name ends in '%', which no file name can, so the chunked and
// unchunked forms cannot collide either.
//
// The hash only spreads files; safety comes from is_valid_object_key, which
// callers check first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace eltrix::media_fs {

/// Longest path component we create, well under NAME_MAX (255). The last
/// chunk is kept at least three bytes long, so it is never "." or "..".
inline constexpr std::size_t kMaxNameChunk = 200;

/// FNV-1a, 64-bit.
std::uint64_t fnv1a64(std::string_view data);

/// "%2F" for '/', as described above.
std::string escape_key(std::string_view key);
std::string unescape_key(std::string_view name);

/// The object's path relative to the media root. `key` must be valid.
std::string object_relative_path(std::string_view key);

/// The key an object path belongs to (inverse of object_relative_path), or
/// an empty string when `path` is not one this layout produces.
std::string key_from_relative_path(std::string_view path);

}  // namespace eltrix::media_fs
