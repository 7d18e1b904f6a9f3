// The Authenticator behind client::Authenticator, and the helpers every
// area that creates or removes access tokens shares (login, registration,
// logout, password change, device deletion).
//
// Lookups: an access token is hashed (SHA-256) and looked up as
// "tok:<hash>" in the cache plugin; on a miss, in PostgreSQL on the primary
// (a replica may still hold a token that was just logged out), and the answer
// is cached. Each cached entry keeps the token's expiry and is checked on
// every request, and its TTL is min(cache.ttl, the token's remaining
// lifetime). Removing tokens deletes the rows, writes a revocation tombstone
// ("tokrev:<hash>") and replaces their cache entries with a "revoked" marker
// (forget_cached_tokens); a lookup racing with the removal checks the
// tombstone after writing its entry and restores the marker
// (fill_token_cache): with a shared cache the removal takes effect on every
// node at once. With a per-node cache, entries live at most
// kUnsharedTokenCacheTtl: the cluster mesh relays the revoked marker to the
// peers at once (GuardedCache), and the TTL bounds how long a logout can take
// to reach a node that missed that message.
#pragma once

#include "client/auth.h"
#include "crypto/password.h"
#include "plugins/guarded_cache.h"

#include <eltrix/plugin/cache.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

/// The cache value that marks a removed token.
/// A tombstone: GuardedCache relays it to peers when the cache is per node.
inline constexpr std::string_view kRevokedMarker = plugins::kTombstone;

/// The cache key of a token lookup: "tok:" + the token's SHA-256 hex.
std::string token_cache_key(std::string_view token_hash);

/// The cache key of a token's revocation tombstone: "tokrev:" + its SHA-256
/// hex. Written by forget_cached_tokens, read (never written) by
/// fill_token_cache.
std::string token_revocation_key(std::string_view token_hash);

/// Replaces the cached lookups of these tokens (after their rows are
/// deleted) with kRevokedMarker, for cache.ttl, having first written each
/// one's revocation tombstone. Never throws: a cache failure leaves entries
/// to expire on their own.
void forget_cached_tokens(plugin::Cache& cache, const std::vector<std::string>& token_hashes);

/// Caches a token lookup read from the database (under token_cache_key of
/// `token_hash`; `value` is the encoded owner) unless the token was revoked meanwhile: writes
/// it, then reads the revocation tombstone and, if present, writes the
/// revoked marker back. This closes the race in which a logout between the
/// database read and the cache write re-cached a revoked token for the whole
/// TTL. Never throws.
void fill_token_cache(plugin::Cache& cache, std::string_view token_hash, std::string_view value,
                      std::chrono::seconds ttl);

/// The policy of auth.password_min_length and auth.password_require_special.
crypto::PasswordPolicy password_policy(const config::Config& config);

/// Throws 400 M_WEAK_PASSWORD (saying why) unless `password` meets the
/// configured policy.
void require_password_policy(const config::Config& config, std::string_view password);

/// A new login's credentials.
struct IssuedToken {
  std::string access_token;
  std::string device_id;
  /// Set when auth.session_lifetime is not 0.
  std::optional<std::int64_t> expires_in_ms;
};

/// Logs `user_id` in on `device_id` (a new random ID when none): creates the
/// device if needed (named `display_name`), revokes the device's earlier
/// tokens and stores a new one whose lifetime is auth.session_lifetime.
/// Writes on the primary; does not check the user exists or may log in.
IssuedToken issue_access_token(const config::Config& config, storage::Database& db,
                               plugin::Cache& cache, const std::string& user_id,
                               const std::optional<std::string>& device_id,
                               const std::optional<std::string>& display_name,
                               const std::optional<std::string>& ip);

}  // namespace eltrix::client
