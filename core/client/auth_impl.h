// The Authenticator behind client::Authenticator.
//
// Lookups: an access token is hashed (SHA-256) and looked up as
// "tok:<hash>" in the cache plugin; on a miss, in PostgreSQL on the primary
// (a replica may still hold a token that was just logged out), and the answer
// is cached. Each cached entry keeps the token's expiry and is checked on
// every request, and its TTL is min(cache.ttl, the token's remaining
// lifetime). The device service removes tokens, and how that reaches the
// cache, racing lookups included, is accounts/token_cache.h: with a shared
// cache the removal takes effect on every node at once. With a per-node
// cache, entries live at most
// kUnsharedTokenCacheTtl: the cluster mesh relays the revoked marker to the
// peers at once (GuardedCache), and the TTL bounds how long a logout can take
// to reach a node that missed that message.
#pragma once

#include "client/auth.h"

#include <eltrix/plugin/cache.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace eltrix::config {
class Config;
}
namespace eltrix::storage {
class Database;
}

namespace eltrix::client {

/// Longest a token lookup stays in a cache that other nodes do not share.
inline constexpr std::chrono::seconds kUnsharedTokenCacheTtl{30};

/// Devices' last_seen_ts/last_seen_ip are written at most this often per
/// token (gated through the cache), so that requests do not each write.
inline constexpr std::chrono::seconds kLastSeenInterval{300};

/// Builds the node's Authenticator. `cache_shared`: the cache plugin has
/// plugin::kCacheShared. All references must outlive the result.
std::unique_ptr<Authenticator> make_authenticator(const config::Config& config,
                                                  storage::Database& db, plugin::Cache& cache,
                                                  bool cache_shared);

/// The access token of a request: "Authorization: Bearer <token>" or, failing
/// that, the deprecated ?access_token= parameter. Nullopt when neither.
std::optional<std::string> access_token_of(http::Request& request);

}  // namespace eltrix::client
