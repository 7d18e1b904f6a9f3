// Random identifiers and credentials from libsodium's CSPRNG, and the
// one-way hash under which access tokens are stored.
//
// Access tokens are opaque to clients (spec: "Client Authentication"). The
// database keeps only token_hash(token), so a leaked database or backup does
// not hand out working tokens; the token itself exists only in the client and
// in the response that created it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace eltrix::crypto {

/// Prefix of every access token: makes leaked tokens easy to recognise (e.g.
/// by secret scanners) and to tell apart from other credentials.
inline constexpr std::string_view kAccessTokenPrefix = "elt_";

/// `count` bytes from the CSPRNG.
std::string random_bytes(std::size_t count);

/// `length` characters drawn uniformly from `alphabet` (which must not be empty).
std::string random_string(std::size_t length, std::string_view alphabet);

/// Unpadded URL-safe Base64 (RFC 4648 §5).
std::string base64url(std::string_view bytes);

/// Lower-case hex.
std::string to_hex(std::string_view bytes);

/// Lower-case hex SHA-256 of `data` (64 characters).
std::string sha256_hex(std::string_view data);

/// "elt_" + 32 random bytes in unpadded URL-safe Base64 (47 characters).
std::string generate_access_token();

/// What is stored for (and looked up by) an access token: its SHA-256 in
/// hex. A fast hash is enough because tokens carry 256 random bits.
inline std::string token_hash(std::string_view token) {
  return sha256_hex(token);
}

/// A device ID: 10 upper-case letters (about 47 bits), as clients are used
/// to from other homeservers.
std::string generate_device_id();

/// A user-interactive-authentication session ID (24 random bytes, URL-safe).
std::string generate_session_id();

/// A nonce for the shared-secret registration API (32 random bytes in hex).
std::string generate_nonce();

}  // namespace eltrix::crypto
