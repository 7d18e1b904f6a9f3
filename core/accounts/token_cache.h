// The cached lookups of access tokens, and how removing tokens reaches them.
//
// An access token is hashed (SHA-256) and its owner cached as "tok:<hash>"
// in the cache plugin. Removing tokens (logout, device deletion, password
// change, a device logging in again) deletes the rows, writes a revocation
// tombstone ("tokrev:<hash>") and replaces their cache entries with a
// "revoked" marker (forget_cached_tokens); a lookup racing with the removal
// checks the tombstone after writing its entry and restores the marker
// (fill_token_cache): with a shared cache the removal takes effect on every
// node at once. The device service removes tokens; the Client-Server API's
// authenticator (client/auth_impl.h) fills the cache.
#pragma once

#include "plugins/guarded_cache.h"

#include <eltrix/plugin/cache.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::accounts {

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
/// `token_hash`; `value` is the encoded owner) unless the token was revoked
/// meanwhile: writes it, then reads the revocation tombstone and, if
/// present, writes the revoked marker back. This closes the race in which a
/// logout between the database read and the cache write re-cached a revoked
/// token for the whole TTL. Never throws.
void fill_token_cache(plugin::Cache& cache, std::string_view token_hash, std::string_view value,
                      std::chrono::seconds ttl);

}  // namespace eltrix::accounts
