// Base64 as Matrix uses it (spec appendices, "Unpadded Base64"): keys, hashes
// and signatures are unpadded standard Base64; event IDs use the URL-safe
// alphabet.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eltrix::matrix {

/// RFC 4648 standard alphabet, no '=' padding.
std::string encode_base64_unpadded(std::string_view bytes);

/// RFC 4648 URL-safe alphabet ('-' and '_'), no '=' padding.
std::string encode_base64_urlsafe_unpadded(std::string_view bytes);

/// Decodes padded or unpadded input in either alphabet (but not both mixed in
/// one string, which no encoder produces). Nullopt for anything else: stray
/// characters or whitespace, wrong padding, or impossible lengths. Unused
/// trailing bits are ignored, not required to be zero, for interoperability.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace eltrix::matrix
