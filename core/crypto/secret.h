// Comparing secrets without leaking them through timing, and the HMAC of the
// Synapse-compatible shared-secret registration API.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eltrix::crypto {

/// Whether `a` equals `b`, in time that depends on neither content nor
/// (beyond hashing) length: both are hashed with SHA-256 and the digests
/// compared with sodium_memcmp. Use it for every secret a client supplies
/// (registration tokens, MACs).
bool secret_equal(std::string_view a, std::string_view b);

/// Lower-case hex HMAC-SHA1 of `message` under `key` (RFC 2104).
std::string hmac_sha1_hex(std::string_view key, std::string_view message);

/// The MAC of POST /_synapse/admin/v1/register: hex HMAC-SHA1 keyed with the
/// shared secret over nonce NUL username NUL password NUL ("admin" or
/// "notadmin"), followed by NUL user_type when a user type is given. This is
/// what Synapse's register_new_matrix_user sends.
std::string shared_secret_registration_mac(std::string_view shared_secret, std::string_view nonce,
                                           std::string_view username, std::string_view password,
                                           bool admin,
                                           std::optional<std::string_view> user_type = {});

/// Encrypts and authenticates `plaintext` (libsodium secretbox, XSalsa20-
/// Poly1305, a random nonce) under a key derived from `secret` for `purpose`
/// (BLAKE2b keyed hash), so keys for different purposes never coincide.
/// Returns nonce || ciphertext. For data at rest that holds secrets, such as
/// a UIA request body with its password.
std::string seal(std::string_view secret, std::string_view purpose, std::string_view plaintext);

/// The plaintext of seal()'s output, or nullopt when it was sealed under
/// another secret or purpose, or altered.
std::optional<std::string> open_sealed(std::string_view secret, std::string_view purpose,
                                       std::string_view sealed);

/// Overwrites the string's bytes with zeros (sodium_memzero, which the
/// compiler may not optimise away) and empties it. For passwords read into
/// memory by the CLI.
void wipe(std::string& secret);

}  // namespace eltrix::crypto
