// The signing-key file format Synapse reads and writes (its `signing.key`):
// one line "ed25519 <version> <unpadded Base64 seed>". `eltrix keys export`
// writes it and `eltrix keys import` reads it, so a server's identity moves
// between Eltrix and Synapse either way.
#pragma once

#include "matrix/signing.h"

#include <optional>
#include <string>
#include <string_view>

namespace eltrix::matrix {

/// The file's text for `key`, ending in a newline. It holds the secret.
std::string format_signing_key_file(const SigningKey& key);

/// The key in `text`: the first line that is neither empty nor a comment
/// ('#'). On failure, nullopt and `error` says what was found and what was
/// expected, never quoting the seed.
std::optional<SigningKey> parse_signing_key_file(std::string_view text, std::string& error);

}  // namespace eltrix::matrix
