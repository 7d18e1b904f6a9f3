// The key every node of one deployment shares for cluster traffic.
//
// Derived, never used directly: BLAKE2b keyed with a fixed context string
// over cluster.secret when set, else over server.secret_key. A leaked cluster
// key therefore reveals nothing about the secret key (nor the reverse), and
// the two uses can never be confused. The key is never logged.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace eltrix::cluster {

inline constexpr std::size_t kKeyBytes = 32;
using Key = std::array<std::uint8_t, kKeyBytes>;

/// The cluster key derived from `secret` (any length, at least 1 byte).
Key derive_cluster_key(std::string_view secret);

}  // namespace eltrix::cluster
